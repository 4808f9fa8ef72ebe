import Synchronization
import TollgateInbound
import TollgateKit
import TollgateRegistry

/// DPoP proof `jti`s recorded in the registry's shared store (PostgreSQL), so that every replica
/// refuses a proof another one accepted. Expired records are swept at most once a minute.
final class RegistryReplayLedger: DPoPReplayLedger {
    private let store: any ConnectionStore
    private let clock: any TollgateClock
    private let lastSweep = Mutex<Double>(0)

    init(store: any ConnectionStore, clock: any TollgateClock) {
        self.store = store
        self.clock = clock
    }

    func recordOnce(key: String, until: Double) async throws -> Bool {
        let now = clock.now()
        let sweep = lastSweep.withLock { last in
            guard now - last >= 60 else { return false }
            last = now
            return true
        }
        if sweep { try? await store.forgetRecorded(before: now) }
        return try await store.recordOnce(key: key, until: until, now: now)
    }
}
