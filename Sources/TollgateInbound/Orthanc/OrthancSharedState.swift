package import Foundation

/// What replicas share for the Orthanc routes when they share a store (the registry's PostgreSQL):
/// the roles document `PUT /settings/roles` writes, and the profiles of users seen, which the
/// plugin's `user-id` lookups (audit logs) ask for on whichever replica they reach. The
/// composition root builds it over the store; nil: this process alone.
package protocol OrthancSharedState: Sendable {
    /// The shared roles document (its JSON), nil when none was ever written.
    func loadRoles() async throws -> Data?
    /// Stores the roles document and tells the other replicas to reread it.
    func saveRoles(_ json: Data) async throws
    func rememberUser(_ userID: String, profile json: Data) async throws
    func user(_ userID: String) async throws -> Data?
}
