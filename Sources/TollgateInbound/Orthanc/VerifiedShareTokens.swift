import Synchronization

/// Share tokens whose signature jwt-kit has checked, by the token's SHA-256, so that a token asked
/// about again is answered without a second HMAC and without waiting (the event loop's path). Only
/// what the signature vouches for is kept; expiry is judged on every use. Bounded: the oldest goes
/// first. Only tokens signed with Tollgate's key get in, so a flood of forged ones takes no room.
final class VerifiedShareTokens: Sendable {
    struct Verified: Sendable {
        let type: String
        let resources: [OrthancResource]
        let serverID: String?
        let expiresAt: Int?
    }

    private struct State {
        var entries: [TokenKey: Verified] = [:]
        /// Keys in the order they came in, a ring once full; `next` is the oldest.
        var order: [TokenKey] = []
        var next = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func lookup(_ key: TokenKey) -> Verified? {
        state.withLock { $0.entries[key] }
    }

    func remember(_ key: TokenKey, _ verified: Verified) {
        state.withLock { state in
            guard state.entries.updateValue(verified, forKey: key) == nil else { return }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.entries[state.order[state.next]] = nil
                state.order[state.next] = key
                state.next = (state.next + 1) % capacity
            }
        }
    }
}
