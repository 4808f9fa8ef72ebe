import Foundation
import TollgateInbound
import TollgateKit
import TollgateRegistry

/// The Orthanc routes' shared memory over the registry's PostgreSQL store: the roles document
/// (announced to the other replicas when written) and the profiles of users seen, by a SHA-256 of
/// the user id (a bounded key; the profile itself is what get-profile answers anyway).
struct RegistryOrthancState: OrthancSharedState {
    static let rolesKey = "orthanc.roles"
    static let userPrefix = "orthanc.user."
    /// Users not seen for this long are forgotten (the plugin's audit-log lookups are recent).
    static let userMemorySeconds = 30.0 * 86400

    let documents: SharedDocuments
    let clock: any TollgateClock

    func loadRoles() async throws -> Data? {
        try await documents.get(Self.rolesKey)
    }

    func saveRoles(_ json: Data) async throws {
        try await documents.put(Self.rolesKey, json, now: clock.now(), announce: true)
    }

    func rememberUser(_ userID: String, profile json: Data) async throws {
        let now = clock.now()
        try await documents.put(Self.userKey(userID), json, now: now, announce: false)
        try await documents.forget(prefix: Self.userPrefix, updatedBefore: now - Self.userMemorySeconds)
    }

    func user(_ userID: String) async throws -> Data? {
        try await documents.get(Self.userKey(userID))
    }

    static func userKey(_ userID: String) -> String {
        userPrefix + SecretDigest.sha256Hex(userID)
    }
}
