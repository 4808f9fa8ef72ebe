/// What replicas sharing a store tell each other (PostgreSQL NOTIFY on the store's channel;
/// nothing travels for one-process stores). Today: "forget this token's decision", named by its
/// SHA-256 only, so no token ever crosses the database.
public struct ReplicaMessages: Sendable {
    let store: any ConnectionStore
    /// This process, so that it skips its own messages (it acted on them already).
    let sender: String

    public init(registry: ConnectionRegistry, sender: String) {
        store = registry.store
        self.sender = sender
    }

    /// Asks every other replica to evict the decision for the token with this SHA-256 (64 hex digits).
    public func evictDecision(sha256Hex: String) async throws {
        try await store.broadcast("v1 \(sender) evict \(sha256Hex)")
    }

    /// Hands every other replica's eviction to `evict` until cancelled.
    public func run(evict: @escaping @Sendable (String) -> Void) async {
        let sender = self.sender
        await store.listen { message in
            let parts = message.split(separator: " ")
            guard parts.count == 4, parts[0] == "v1", parts[1] != sender, parts[2] == "evict", parts[3].utf8.count == 64 else { return }
            evict(String(parts[3]))
        }
    }
}
