package import Foundation

/// What replicas sharing a store tell each other (PostgreSQL NOTIFY on the store's channel;
/// nothing travels for one-process stores): "forget this token's decision", named by its SHA-256
/// only, so no token ever crosses the database; and "this shared document changed", by key.
package struct ReplicaMessages: Sendable {
    let store: any ConnectionStore
    /// This process, so that it skips its own messages (it acted on them already).
    let sender: String

    package init(registry: ConnectionRegistry) {
        store = registry.store
        sender = registry.processID
    }

    /// Asks every other replica to evict the decision for the token with this SHA-256 (64 hex digits).
    package func evictDecision(sha256Hex: String) async throws {
        try await store.broadcast("v1 \(sender) evict \(sha256Hex)")
    }

    /// Tells every other replica that the shared document `key` was replaced.
    package func documentChanged(key: String) async throws {
        try await store.broadcast("v1 \(sender) document \(key)")
    }

    /// Hands every other replica's message to its handler until cancelled.
    package func run(evict: @escaping @Sendable (String) -> Void, documentChanged: @escaping @Sendable (String) async -> Void = { _ in }) async {
        let sender = self.sender
        await store.listen { message in
            let parts = message.split(separator: " ")
            guard parts.count == 4, parts[0] == "v1", parts[1] != sender else { return }
            switch parts[2] {
            case "evict" where parts[3].utf8.count == 64: evict(String(parts[3]))
            case "document" where parts[3].utf8.count <= 128: await documentChanged(String(parts[3]))
            default: return
            }
        }
    }
}

/// Small documents the replicas sharing the registry's store share (nothing secret: the Orthanc
/// roles, the profiles of users seen), and the message telling the others one changed.
package struct SharedDocuments: Sendable {
    let store: any ConnectionStore
    let messages: ReplicaMessages

    package init(registry: ConnectionRegistry) {
        store = registry.store
        messages = ReplicaMessages(registry: registry)
    }

    /// Replaces the document; with `announce`, the other replicas are told to reread it.
    package func put(_ key: String, _ value: Data, now: Double, announce: Bool) async throws {
        try await store.putDocument(key: key, value: value, now: now)
        if announce { try await messages.documentChanged(key: key) }
    }

    package func get(_ key: String) async throws -> Data? {
        try await store.document(key: key)
    }

    package func forget(prefix: String, updatedBefore: Double) async throws {
        try await store.deleteDocuments(prefix: prefix, updatedBefore: updatedBefore)
    }
}
