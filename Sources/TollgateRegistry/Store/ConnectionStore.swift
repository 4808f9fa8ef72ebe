package import Foundation

/// Where runtime connections live. SQLite (embedded, one process), PostgreSQL (shared by replicas)
/// and memory (tests) implement it, and one contract suite runs against all of them. A store only
/// ever holds sealed secrets; sealing is `RegistryKeyring`'s, above every store.
package protocol ConnectionStore: Sendable {
    /// Brings the schema to the current version (versioned migrations, run at start).
    func migrate() async throws

    /// Adds a connection; `false` when the organisation already has one by that name.
    func insert(_ record: ConnectionRecord) async throws -> Bool
    func find(organization: String, name: String) async throws -> ConnectionRecord?
    func find(id: String) async throws -> ConnectionRecord?
    func list(organization: String) async throws -> [ConnectionRecord]
    /// Every connection, for key rotation.
    func all() async throws -> [ConnectionRecord]
    /// How many connections each registry key id seals.
    func countByKeyID() async throws -> [String: Int]
    /// Replaces the row if it is still at `generation` (the caller's copy bumped to `generation + 1`);
    /// `false` when another writer got there first.
    func update(_ record: ConnectionRecord, from generation: Int) async throws -> Bool
    /// Removes the connection, its dependencies and its pending authorizations; `false` when there was none.
    func delete(id: String) async throws -> Bool

    /// Records a dependent; registering the same one again only refreshes its name.
    func addDependency(connectionID: String, _ dependency: ConnectionDependency) async throws
    func dependencies(connectionID: String) async throws -> [ConnectionDependency]
    /// `false` when it was not registered.
    func removeDependency(connectionID: String, dependentID: String) async throws -> Bool

    /// Keeps an authorization request until its callback; expired ones are dropped meanwhile.
    func insertAuthorization(_ pending: PendingAuthorization, now: Double) async throws
    /// Removes and returns the pending authorization with this state hash, if any: one taker only.
    func takeAuthorization(stateHash: String) async throws -> PendingAuthorization?

    /// Claims a connection's token refresh for `owner` until `until`, unless another owner's
    /// claim is still running at `now`; claiming again extends one's own. `false` when another
    /// holds it. Leases serialise refreshes across processes sharing the store (PostgreSQL); a
    /// lease is not a write, so it leaves the generation alone.
    func acquireLease(id: String, owner: String, until: Double, now: Double) async throws -> Bool
    func releaseLease(id: String, owner: String) async throws

    /// Small documents the processes sharing the store share, by key (the Orthanc roles, the
    /// profiles of users seen); replacing one replaces it whole.
    func putDocument(key: String, value: Data, now: Double) async throws
    func document(key: String) async throws -> Data?
    /// Forgets the documents under `prefix` last written before `before` (bounded memory of users).
    func deleteDocuments(prefix: String, updatedBefore before: Double) async throws

    /// Records `key` until `until` unless it is recorded and live at `now`: `false` then (a
    /// replay). What one replica saw, every replica sharing the store sees (DPoP proof `jti`s).
    func recordOnce(key: String, until: Double, now: Double) async throws -> Bool
    /// Forgets what expired before `now`.
    func forgetRecorded(before now: Double) async throws

    /// Tells every other process sharing the store (PostgreSQL NOTIFY); nothing for stores that
    /// serve one process. A message is at most 200 printable ASCII bytes.
    func broadcast(_ message: String) async throws
    /// Hands every broadcast to `receive` (the sender's own included) until cancelled, resuming
    /// after a lost connection. Returns at once for stores that serve one process.
    func listen(_ receive: @escaping @Sendable (String) async -> Void) async

    func close() async
}

/// A store that could not do what it was asked (the database is unreadable, a migration failed).
package struct ConnectionStoreError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
