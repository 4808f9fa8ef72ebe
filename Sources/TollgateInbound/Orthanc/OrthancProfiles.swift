import Foundation
package import Logging
import Synchronization
package import TollgateConfiguration
import TollgateKit

/// Roles → profiles: which permissions and labels a token's roles (read from the configured claim
/// paths) grant. Holds the roles document `GET`/`PUT /settings/roles` reads and replaces, and the
/// users recently seen, for the plugin's `user-id` lookups (audit logs).
///
/// Where the roles come from: `config.yaml` (read-only), or `roles_file`, reread when it changes on
/// disk; with a shared store (`OrthancSharedState`, replicas on PostgreSQL) the store's copy wins,
/// a write goes to the store and the file, and the other replicas reread it when told.
package final class OrthancProfiles: Sendable {
    package enum UpdateError: Error, Sendable {
        case readOnly
        case invalid([ConfigError])
        case unwritable(String)
    }

    private let document: Mutex<OrthancRolesDocument>
    private let roleClaims: [String]
    private let groupsClaim: String
    private let rolesFile: String?
    /// The roles file's modification time and size when last read, to notice an edit on disk.
    private let fileStamp: Mutex<FileStamp?>
    private let validityCap: Int
    package let anonymous: OrthancProfile
    private let knownUsers = Mutex(RecentUsers(capacity: 10_000))
    private let shared: (any OrthancSharedState)?
    private let logger: Logger

    package init(config: OrthancPermissionsConfig?, shared: (any OrthancSharedState)? = nil, logger: Logger = Logger(label: "tollgate")) throws {
        let config = config ?? OrthancPermissionsConfig(roleClaims: [], roles: [:])
        roleClaims = config.roleClaims
        groupsClaim = config.groupsClaim
        rolesFile = config.rolesFile
        validityCap = config.validitySeconds
        self.shared = shared
        self.logger = logger
        anonymous = OrthancProfile(
            name: config.anonymous.name, permissions: config.anonymous.permissions,
            authorizedLabels: config.anonymous.authorizedLabels, validity: config.anonymous.validitySeconds)
        if let file = config.rolesFile {
            let stamp = FileStamp(path: file)
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigErrors(errors: [ConfigError(path: "orthanc.permissions.roles_file", message: "file is not readable")])
            }
            document = Mutex(try OrthancRolesDocument.parse(data, at: "orthanc.permissions.roles_file").get())
            fileStamp = Mutex(stamp)
        } else {
            document = Mutex(OrthancRolesDocument(roles: config.roles ?? [:], availableLabels: config.availableLabels))
            fileStamp = Mutex(nil)
        }
    }

    package var isWritable: Bool { rolesFile != nil }

    package var roles: OrthancRolesDocument { document.withLock { $0 } }

    /// Validates, writes the roles file atomically (a crash leaves the old or the new file, never
    /// half of one) and the shared store, then serves the new roles.
    package func replaceRoles(_ new: OrthancRolesDocument) async throws(UpdateError) {
        guard let rolesFile else { throw .readOnly }
        let problems = new.problems(at: "roles")
        guard problems.isEmpty else { throw .invalid(problems) }
        let json = Self.render(new)
        do {
            try json.write(to: URL(fileURLWithPath: rolesFile), options: .atomic)
        } catch {
            throw .unwritable("cannot write the roles file")
        }
        fileStamp.withLock { $0 = FileStamp(path: rolesFile) }
        if let shared {
            do {
                try await shared.saveRoles(json)
            } catch {
                // Written here but not shared: say so, rather than let replicas disagree silently.
                throw .unwritable("roles saved on this replica, but the shared store could not be written")
            }
        }
        document.withLock { $0 = new }
    }

    /// At start, with a shared store: the store's roles win; a store without any is seeded with ours.
    package func loadShared() async {
        guard let shared, isWritable else { return }
        do {
            if let json = try await shared.loadRoles() {
                adopt(json, from: "the shared store")
            } else {
                try await shared.saveRoles(Self.render(roles))
            }
        } catch {
            logger.warning(
                "the shared store's roles could not be read; serving the roles file's",
                metadata: ["error": .string(PrintableText.clean("\(error)", limit: 200))])
        }
    }

    /// Another replica wrote the roles: reread them from the store.
    package func reloadShared() async {
        guard let shared else { return }
        do {
            if let json = try await shared.loadRoles() { adopt(json, from: "the shared store") }
        } catch {
            logger.warning(
                "the shared store's roles could not be read; keeping the current ones",
                metadata: ["error": .string(PrintableText.clean("\(error)", limit: 200))])
        }
    }

    /// The roles file changed on disk (an operator's edit): serve it, and share it. A file that
    /// does not parse is refused with a warning and the current roles stay.
    package func reloadFileIfChanged() async {
        guard let rolesFile else { return }
        let stamp = FileStamp(path: rolesFile)
        guard stamp != fileStamp.withLock({ $0 }) else { return }
        fileStamp.withLock { $0 = stamp }
        guard let data = FileManager.default.contents(atPath: rolesFile) else {
            logger.warning("orthanc.permissions.roles_file is no longer readable; keeping the current roles")
            return
        }
        switch OrthancRolesDocument.parse(data, at: "orthanc.permissions.roles_file") {
        case .failure(let errors):
            logger.warning(
                "orthanc.permissions.roles_file changed but is not valid; keeping the current roles", metadata: ["problems": .string(errors.description)])
        case .success(let new):
            guard new != roles else { return }
            document.withLock { $0 = new }
            logger.info("orthanc.permissions.roles_file changed: roles reloaded", metadata: ["roles": .stringConvertible(new.roles.count)])
            if let shared { try? await shared.saveRoles(Self.render(new)) }
        }
    }

    private func adopt(_ json: Data, from source: String) {
        switch OrthancRolesDocument.parse(json, at: "roles") {
        case .success(let new): document.withLock { $0 = new }
        case .failure(let errors):
            logger.warning("roles from \(source) are not valid; keeping the current ones", metadata: ["problems": .string(errors.description)])
        }
    }

    static func render(_ document: OrthancRolesDocument) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(document)) ?? Data("{}".utf8)
    }

    /// The profile of a token whose claims passed; remembered for `user-id` lookups (and shared).
    package func profile(of claims: TokenClaims, validity: Int) -> OrthancProfile {
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
        let profile = OrthancProfile(
            name: claims.displayName, userID: claims.subject, permissions: permissions, authorizedLabels: labels,
            groups: claims.values(at: groupsClaim), validity: max(0, min(validity, validityCap)))
        if let subject = claims.subject {
            let changed = knownUsers.withLock { $0.remember(subject, profile) }
            // Only a change travels to the store: a user asked about every minute writes once.
            if changed, let shared, let json = try? JSONEncoder().encode(profile) {
                Task { try? await shared.rememberUser(subject, profile: json) }
            }
        }
        return profile
    }

    /// A user seen recently, by subject, here or (with a shared store) on another replica; nil when unknown.
    package func knownUser(_ userID: String) async -> OrthancProfile? {
        if let local = knownUsers.withLock({ $0.profiles[userID] }) { return local }
        guard let shared, let json = try? await shared.user(userID) else { return nil }
        return try? JSONDecoder().decode(OrthancProfile.self, from: json)
    }
}

/// A bounded memory of profiles by user id; the oldest entry goes first.
struct RecentUsers {
    let capacity: Int
    var profiles: [String: OrthancProfile] = [:]
    var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    /// Whether this is news: a user not seen before, or seen with another profile. Validity alone
    /// (it shrinks with the token's life) is not news.
    @discardableResult
    mutating func remember(_ userID: String, _ profile: OrthancProfile) -> Bool {
        guard let previous = profiles.updateValue(profile, forKey: userID) else {
            order.append(userID)
            if order.count > capacity {
                let dropped = order.count - capacity
                for old in order.prefix(dropped) { profiles[old] = nil }
                order.removeFirst(dropped)
            }
            return true
        }
        var comparable = previous
        comparable.validity = profile.validity
        return comparable != profile
    }
}
