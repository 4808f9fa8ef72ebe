import Synchronization
import TollgateKit

/// At most one warning per key (a peer and what went wrong) per interval, so that a refusal an
/// operator must fix is always seen and a flood of them never fills the log.
final class WarningThrottle: Sendable {
    private let interval: Double
    private let clock: any TollgateClock
    /// Key → when it was last let through. Bounded: past `capacity` keys, the stale ones go, and
    /// if none is stale the table starts over (a warning repeats sooner rather than memory growing).
    private let lastSeen = Mutex<[String: Double]>([:])
    private static let capacity = 4096

    init(interval: Double = 60, clock: any TollgateClock = SystemClock()) {
        self.interval = interval
        self.clock = clock
    }

    /// Whether a warning for `key` should be written now.
    func allows(_ key: String) -> Bool {
        let now = clock.now()
        return lastSeen.withLock { table in
            if let last = table[key], now - last < interval { return false }
            if table.count >= Self.capacity {
                table = table.filter { now - $0.value < interval }
                if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            }
            table[key] = now
            return true
        }
    }
}
