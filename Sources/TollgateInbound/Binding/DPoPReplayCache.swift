import Crypto
import Synchronization
package import TollgateKit

/// Proof `jti`s seen while their proofs could still be accepted (RFC 9449 §11.1), keyed by the
/// SHA-256 of key thumbprint and `jti` so that no client can use up another's names. Bounded:
/// when every entry is still live the proof is refused as undecidable, never a `jti` forgotten.
package final class DPoPReplayCache: Sendable {
    package enum Outcome: Sendable, Equatable {
        case fresh
        case replayed
        case full
    }

    private struct State {
        var expiries: [SHA256Digest: Double] = [:]
        var lastPurge: Double = 0
    }

    private let capacity: Int
    private let clock: any TollgateClock
    private let state = Mutex(State())

    package init(capacity: Int, clock: any TollgateClock) {
        self.capacity = capacity
        self.clock = clock
    }

    /// Records `jti` for `thumbprint` until `until` (seconds); `.replayed` when it was recorded already.
    package func use(jti: String, thumbprint: String, until: Double) -> Outcome {
        var hasher = SHA256()
        hasher.update(data: Array(thumbprint.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(jti.utf8))
        let key = hasher.finalize()
        let now = clock.now()
        return state.withLock { state in
            if let expiry = state.expiries[key], expiry > now { return .replayed }
            if state.expiries.count >= capacity || (state.expiries.count > capacity / 2 && now - state.lastPurge > 10) {
                state.expiries = state.expiries.filter { $0.value > now }
                state.lastPurge = now
                if state.expiries.count >= capacity { return .full }
            }
            state.expiries[key] = until
            return .fresh
        }
    }

    package var count: Int { state.withLock { $0.expiries.count } }
}

/// Where replicas that share a store record proof `jti`s, so that a proof replayed to another
/// replica is caught there too (the registry's PostgreSQL store). `true`: recorded now, the first
/// use; `false`: a replay. Throws when the store cannot be asked: the proof is then undecided.
package protocol DPoPReplayLedger: Sendable {
    func recordOnce(key: String, until: Double) async throws -> Bool
}
