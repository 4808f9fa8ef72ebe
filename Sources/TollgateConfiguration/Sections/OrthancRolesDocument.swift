package import Foundation
import TollgateKit

/// The roles JSON of orthanc-auth-service (`permissions.json`) and of `GET`/`PUT /settings/roles`:
/// `{"roles": {NAME: {"permissions": [...], "authorized-labels": [...]}}, "available-labels": [...]}`.
package struct OrthancRolesDocument: Sendable, Codable, Equatable {
    package var roles: [String: OrthancRole]
    package var availableLabels: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case roles
        case availableLabels = "available-labels"
        /// What earlier OE2 releases read and write instead of `available-labels`: answered too.
        case allowedLabels = "allowed-labels"
        /// Sent by the plugin on PUT; not stored.
        case serverID = "server-id"
    }

    package init(roles: [String: OrthancRole], availableLabels: [String] = []) {
        self.roles = roles
        self.availableLabels = availableLabels
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        roles = try c.decode(.roles)
        availableLabels = try c.decodeOptional(.availableLabels) ?? c.decode(.allowedLabels, default: [])
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(roles, forKey: .roles)
        try c.encode(availableLabels, forKey: .availableLabels)
        try c.encode(availableLabels, forKey: .allowedLabels)
    }

    /// Parses (`//` and `/* */` comments allowed, as in orthanc-auth-service's `permissions.json`)
    /// and validates; every problem is named by its path under `at`.
    package static func parse(_ data: Data, at: String) -> Result<OrthancRolesDocument, ConfigErrors> {
        let document: OrthancRolesDocument
        do {
            document = try JSONDecoder().decode(OrthancRolesDocument.self, from: Data(JSONComments.strip(Array(data))))
        } catch {
            return .failure(ConfigErrors(errors: [ConfigError(path: at, message: "not a roles document: \(ConfigError.from(error).description)")]))
        }
        let problems = document.problems(at: at)
        return problems.isEmpty ? .success(document) : .failure(ConfigErrors(errors: problems))
    }

    package func problems(at: String) -> [ConfigError] {
        Self.problems(roles: roles, availableLabels: availableLabels, at: at)
    }

    static func problems(roles: [String: OrthancRole], availableLabels: [String], at: String) -> [ConfigError] {
        var problems = ConfigProblems()
        problems.check(roles.count <= 10_000, at, "at most 10000 roles")
        for (name, role) in roles.sorted(by: { $0.key < $1.key }) {
            let path = "\(at).\(name)"
            problems.check(!name.isEmpty && name.count <= 256, path, "role names are 1-256 characters")
            // Empty lists are a role that grants nothing (OE2 saves them so); unknown names may be the plugin's ExtraPermissions.
            problems.check(role.permissions.count <= 256, "\(path).permissions", "at most 256 permissions")
            for message in OrthancPermission.malformedNames(role.permissions) { problems.add("\(path).permissions", message) }
            problems.check(role.authorizedLabels.count <= 1024, "\(path).authorized-labels", "at most 1024 labels")
            problems.check(role.authorizedLabels.allSatisfy { !$0.isEmpty && $0.count <= 64 }, "\(path).authorized-labels", "labels are 1-64 characters")
        }
        problems.check(availableLabels.allSatisfy { !$0.isEmpty && $0.count <= 64 }, "available-labels", "labels are 1-64 characters")
        return problems.errors
    }
}
