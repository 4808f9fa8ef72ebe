import Foundation
import Synchronization
import TollgateConfiguration
import TollgateKit

/// Roles → profiles: which permissions and labels a token's roles (read from the configured claim
/// paths) grant. Holds the roles document `GET`/`PUT /settings/roles` reads and replaces, and the
/// users recently seen, for the plugin's `user-id` lookups (audit logs).
public final class OrthancProfiles: Sendable {
    public enum UpdateError: Error, Sendable {
        case readOnly
        case invalid([ConfigError])
        case unwritable(String)
    }

    private let document: Mutex<OrthancRolesDocument>
    private let roleClaims: [String]
    private let groupsClaim: String
    private let rolesFile: String?
    private let validityCap: Int
    public let anonymous: OrthancProfile
    private let knownUsers = Mutex(RecentUsers(capacity: 10_000))

    public init(config: OrthancPermissionsConfig?) throws {
        let config = config ?? OrthancPermissionsConfig(roleClaims: [], roles: [:])
        roleClaims = config.roleClaims
        groupsClaim = config.groupsClaim
        rolesFile = config.rolesFile
        validityCap = config.validitySeconds
        anonymous = OrthancProfile(name: config.anonymous.name, permissions: config.anonymous.permissions,
                                   authorizedLabels: config.anonymous.authorizedLabels, validity: config.anonymous.validitySeconds)
        if let file = config.rolesFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigErrors(errors: [ConfigError(path: "orthanc.permissions.roles_file", message: "file is not readable")])
            }
            document = Mutex(try OrthancRolesDocument.parse(data, at: "orthanc.permissions.roles_file").get())
        } else {
            document = Mutex(OrthancRolesDocument(roles: config.roles ?? [:], availableLabels: config.availableLabels))
        }
    }

    public var isWritable: Bool { rolesFile != nil }

    public var roles: OrthancRolesDocument { document.withLock { $0 } }

    /// Validates, writes the roles file atomically (a crash leaves the old or the new file, never
    /// half of one), then serves the new roles.
    public func replaceRoles(_ new: OrthancRolesDocument) throws(UpdateError) {
        guard let rolesFile else { throw .readOnly }
        let problems = new.problems(at: "roles")
        guard problems.isEmpty else { throw .invalid(problems) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(new).write(to: URL(fileURLWithPath: rolesFile), options: .atomic)
        } catch {
            throw .unwritable("cannot write the roles file")
        }
        document.withLock { $0 = new }
    }

    /// The profile of a token whose claims passed; remembered for `user-id` lookups.
    public func profile(of claims: TokenClaims, validity: Int) -> OrthancProfile {
        let names = roleClaims.flatMap { claims.values(at: $0) }
        let (permissions, labels) = document.withLock { document in
            var permissions: [String] = []
            var labels: [String] = []
            for name in names {
                guard let role = document.roles[name] else { continue }
                for permission in role.permissions where !permissions.contains(permission) { permissions.append(permission) }
                for label in role.authorizedLabels where !labels.contains(label) { labels.append(label) }
            }
            return (permissions, labels)
        }
        let profile = OrthancProfile(name: claims.displayName, userID: claims.subject, permissions: permissions, authorizedLabels: labels,
                                     groups: claims.values(at: groupsClaim), validity: max(0, min(validity, validityCap)))
        if let subject = claims.subject { knownUsers.withLock { $0.remember(subject, profile) } }
        return profile
    }

    /// A user seen recently, by subject; nil when unknown.
    public func knownUser(_ userID: String) -> OrthancProfile? {
        knownUsers.withLock { $0.profiles[userID] }
    }
}

/// A bounded memory of profiles by user id; the oldest entry goes first.
struct RecentUsers {
    let capacity: Int
    var profiles: [String: OrthancProfile] = [:]
    var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    mutating func remember(_ userID: String, _ profile: OrthancProfile) {
        if profiles.updateValue(profile, forKey: userID) == nil {
            order.append(userID)
            if order.count > capacity {
                let dropped = order.count - capacity
                for old in order.prefix(dropped) { profiles[old] = nil }
                order.removeFirst(dropped)
            }
        }
    }
}
