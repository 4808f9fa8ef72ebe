import TollgateKit

/// `orthanc.permissions` — user profiles in the orthanc-authorization plugin's vocabulary: roles
/// (read from configurable claim paths) grant upstream permission names and authorized labels.
package struct OrthancPermissionsConfig: Sendable, Decodable {
    /// Claim paths whose string values are role names; dots descend into objects
    /// (`realm_access.roles`, `resource_access.<client>.roles`), `scope` reads the token's scopes.
    package var roleClaims: [String] = ["roles", "realm_access.roles"]
    /// Claim path of the profile's `groups`.
    package var groupsClaim: String = "groups"
    /// Role name → its permissions and authorized labels, in the roles JSON shape of orthanc-auth-service.
    package var roles: [String: OrthancRole]?
    /// A roles JSON file (`{roles, available-labels}`); `PUT /settings/roles` rewrites it atomically.
    package var rolesFile: String?
    package var availableLabels: [String] = []
    /// The profile of a request without a token.
    package var anonymous = OrthancAnonymousProfile()
    /// Upper bound of the validity a profile answer carries.
    package var validitySeconds: Int = 60
    /// Method + URI regex → permissions, in the plugin's `Permissions` format; default: Tollgate's
    /// table written from the plugin's defaults. Used by the Orthanc 1.10 filter route.
    package var table: [[String]]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case roles, anonymous, table
        case roleClaims = "role_claims"
        case groupsClaim = "groups_claim"
        case rolesFile = "roles_file"
        case availableLabels = "available_labels"
        case validitySeconds = "validity_seconds"
    }

    package init(roleClaims: [String] = ["roles", "realm_access.roles"], roles: [String: OrthancRole]? = nil) {
        self.roleClaims = roleClaims
        self.roles = roles
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        roleClaims = try c.decode(.roleClaims, default: roleClaims)
        groupsClaim = try c.decode(.groupsClaim, default: groupsClaim)
        roles = try c.decodeOptional(.roles)
        rolesFile = try c.decodeOptional(.rolesFile)
        availableLabels = try c.decode(.availableLabels, default: availableLabels)
        anonymous = try c.decode(.anonymous, default: anonymous)
        validitySeconds = try c.decode(.validitySeconds, default: validitySeconds)
        table = try c.decodeOptional(.table)
    }
}

/// One role: what it may do and which labels it may see (`*`: all).
package struct OrthancRole: Sendable, Codable, Equatable {
    package var permissions: [String]
    package var authorizedLabels: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case permissions
        case authorizedLabels = "authorized-labels"
        case authorizedLabelsUnderscore = "authorized_labels"
    }

    package init(permissions: [String], authorizedLabels: [String] = ["*"]) {
        self.permissions = permissions
        self.authorizedLabels = authorizedLabels
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        permissions = try c.decode(.permissions, default: [])
        authorizedLabels = try c.decodeOptional(.authorizedLabels) ?? c.decode(.authorizedLabelsUnderscore, default: [])
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(permissions, forKey: .permissions)
        try c.encode(authorizedLabels, forKey: .authorizedLabels)
    }
}

/// `orthanc.permissions.anonymous` — what a request without any token may do.
package struct OrthancAnonymousProfile: Sendable, Decodable {
    package var name = "Anonymous"
    package var permissions: [String] = []
    package var authorizedLabels: [String] = []
    package var validitySeconds = 60

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, permissions
        case authorizedLabels = "authorized_labels"
        case validitySeconds = "validity_seconds"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        name = try c.decode(.name, default: name)
        permissions = try c.decode(.permissions, default: permissions)
        authorizedLabels = try c.decode(.authorizedLabels, default: authorizedLabels)
        validitySeconds = try c.decode(.validitySeconds, default: validitySeconds)
    }
}

/// Permission names. The plugin's own (orthanc-authorization `DefaultConfiguration.json`, and
/// orthanc-auth-service's `UserPermissions`) are `known`; a deployment may add others through the
/// plugin's `ExtraPermissions` (OE2's roles page offers them), so any well-formed name is accepted
/// and only an unknown one in `config.yaml` is warned about (a typo grants nothing).
package enum OrthancPermission {
    package static let all: [String] = [
        "all", "view", "download", "share", "upload", "send", "modify", "anonymize", "q-r-remote-modalities",
        "edit-labels", "delete", "settings", "worklists", "api-view", "admin-permissions", "audit-logs",
    ]
    package static let known = Set(all)

    /// One message per name that is not a usable permission name: 1-64 printable ASCII characters,
    /// no space, `|` or `"` (the plugin's table joins names with `|`).
    static func malformedNames(_ names: [some StringProtocol]) -> [String] {
        names.filter { !isWellFormed(String($0)) }.map { name in
            "\"\(PrintableText.clean(String(name), limit: 64))\" is not a permission name (1-64 printable characters, no space, | or \")"
        }
    }

    static func isWellFormed(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "|") && $0 != UInt8(ascii: "\"") }
    }

    /// Names none of the plugin's default rules and none of `table`'s use.
    static func unused(_ names: [String], table: [[String]]?) -> [String] {
        let used = known.union((table ?? []).flatMap { $0.count == 3 ? $0[2].split(separator: "|").map(String.init) : [] })
        return names.filter { !used.contains($0) }
    }
}
