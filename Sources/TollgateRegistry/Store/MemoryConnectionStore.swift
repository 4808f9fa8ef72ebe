package import Foundation
import Synchronization

/// Connections in this process only: for tests, and for trying the API without a data directory.
package final class MemoryConnectionStore: ConnectionStore {
    private struct State {
        var records: [String: ConnectionRecord] = [:]
        var dependencies: [String: [String: ConnectionDependency]] = [:]
        var authorizations: [String: PendingAuthorization] = [:]
        var leases: [String: (owner: String, until: Double)] = [:]
        var documents: [String: (value: Data, updatedAt: Double)] = [:]
        var recorded: [String: Double] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    package func migrate() async throws {}

    package func insert(_ record: ConnectionRecord) async throws -> Bool {
        state.withLock { state in
            guard !state.records.values.contains(where: { $0.organization == record.organization && $0.name == record.name }),
                state.records[record.id] == nil
            else { return false }
            state.records[record.id] = record
            return true
        }
    }

    package func find(organization: String, name: String) async throws -> ConnectionRecord? {
        state.withLock { $0.records.values.first { $0.organization == organization && $0.name == name } }
    }

    package func find(id: String) async throws -> ConnectionRecord? {
        state.withLock { $0.records[id] }
    }

    package func list(organization: String) async throws -> [ConnectionRecord] {
        state.withLock { $0.records.values.filter { $0.organization == organization }.sorted { $0.name < $1.name } }
    }

    package func all() async throws -> [ConnectionRecord] {
        state.withLock { Array($0.records.values).sorted { ($0.organization, $0.name) < ($1.organization, $1.name) } }
    }

    package func countByKeyID() async throws -> [String: Int] {
        state.withLock { state in state.records.values.reduce(into: [:]) { $0[$1.sealed.keyID, default: 0] += 1 } }
    }

    package func update(_ record: ConnectionRecord, from generation: Int) async throws -> Bool {
        state.withLock { state in
            guard let current = state.records[record.id], current.generation == generation else { return false }
            var next = record
            next.generation = generation + 1
            state.records[record.id] = next
            return true
        }
    }

    package func delete(id: String) async throws -> Bool {
        state.withLock { state in
            state.dependencies[id] = nil
            state.authorizations = state.authorizations.filter { $0.value.connectionID != id }
            return state.records.removeValue(forKey: id) != nil
        }
    }

    package func addDependency(connectionID: String, _ dependency: ConnectionDependency) async throws {
        state.withLock { state in
            guard state.records[connectionID] != nil else { return }
            let existing = state.dependencies[connectionID]?[dependency.dependentID]
            state.dependencies[connectionID, default: [:]][dependency.dependentID] = ConnectionDependency(
                dependentID: dependency.dependentID, dependentName: dependency.dependentName,
                createdAt: existing?.createdAt ?? dependency.createdAt)
        }
    }

    package func dependencies(connectionID: String) async throws -> [ConnectionDependency] {
        state.withLock { ($0.dependencies[connectionID] ?? [:]).values.sorted { $0.dependentID < $1.dependentID } }
    }

    package func removeDependency(connectionID: String, dependentID: String) async throws -> Bool {
        state.withLock { $0.dependencies[connectionID]?.removeValue(forKey: dependentID) != nil }
    }

    package func insertAuthorization(_ pending: PendingAuthorization, now: Double) async throws {
        state.withLock { state in
            state.authorizations = state.authorizations.filter { $0.value.expiresAt > now }
            state.authorizations[pending.stateHash] = pending
        }
    }

    package func takeAuthorization(stateHash: String) async throws -> PendingAuthorization? {
        state.withLock { $0.authorizations.removeValue(forKey: stateHash) }
    }

    package func acquireLease(id: String, owner: String, until: Double, now: Double) async throws -> Bool {
        state.withLock { state in
            guard state.records[id] != nil else { return false }
            if let held = state.leases[id], held.owner != owner, held.until >= now { return false }
            state.leases[id] = (owner, until)
            return true
        }
    }

    package func releaseLease(id: String, owner: String) async throws {
        state.withLock { state in
            if state.leases[id]?.owner == owner { state.leases[id] = nil }
        }
    }

    /// One process: nobody else to tell.
    package func putDocument(key: String, value: Data, now: Double) async throws {
        state.withLock { $0.documents[key] = (value, now) }
    }

    package func document(key: String) async throws -> Data? {
        state.withLock { $0.documents[key]?.value }
    }

    package func deleteDocuments(prefix: String, updatedBefore before: Double) async throws {
        state.withLock { $0.documents = $0.documents.filter { !$0.key.hasPrefix(prefix) || $0.value.updatedAt >= before } }
    }

    package func recordOnce(key: String, until: Double, now: Double) async throws -> Bool {
        state.withLock { state in
            if let expiry = state.recorded[key], expiry > now { return false }
            state.recorded[key] = until
            return true
        }
    }

    package func forgetRecorded(before now: Double) async throws {
        state.withLock { $0.recorded = $0.recorded.filter { $0.value > now } }
    }

    package func broadcast(_ message: String) async throws {}
    package func listen(_ receive: @escaping @Sendable (String) async -> Void) async {}

    package func close() async {}
}
