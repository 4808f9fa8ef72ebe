import Synchronization
import TollgateConfiguration
import TollgateKit

/// Guards one dependency (a token endpoint, or the peer the proxy reaches). It opens after
/// `failureThreshold` consecutive failures, or, when a ratio rule is set, when at least
/// `minRequests` calls in the last `windowSeconds` failed in the given proportion. Open, it refuses
/// calls for `openSeconds`, then lets exactly one probe through (half-open): a success closes it,
/// a failure opens it again.
package final class CircuitBreaker: Sendable {
    package enum State: Int, Sendable {
        case closed = 0, open = 1, halfOpen = 2

        package var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half_open"
            }
        }
    }

    /// Open when `failures / calls >= ratio` over the window, once `minRequests` calls were seen.
    struct RatioRule: Sendable {
        let ratio: Double
        let windowSeconds: Int
        let minRequests: Int
    }

    /// One second of outcomes; the window is a ring of them, so memory is fixed.
    private struct Bucket {
        var second = Int.min
        var calls = 0
        var failures = 0
    }

    private struct Status {
        var state: State = .closed
        var consecutiveFailures = 0
        var openedAt = 0.0
        var buckets: [Bucket]
    }

    private let failureThreshold: Int
    private let openSeconds: Double
    private let ratio: RatioRule?
    private let clock: any TollgateClock
    private let status: Mutex<Status>

    init(failureThreshold: Int, openSeconds: Int, ratio: RatioRule? = nil, clock: any TollgateClock) {
        self.failureThreshold = failureThreshold
        self.openSeconds = Double(openSeconds)
        self.ratio = ratio
        self.clock = clock
        status = Mutex(Status(buckets: Array(repeating: Bucket(), count: ratio?.windowSeconds ?? 0)))
    }

    convenience init(config: CircuitBreakerConfig, clock: any TollgateClock) {
        self.init(failureThreshold: config.failureThreshold, openSeconds: config.openSeconds, clock: clock)
    }

    convenience init(config: UpstreamCircuitBreakerConfig, clock: any TollgateClock) {
        let ratio =
            config.failureRatio > 0
            ? RatioRule(ratio: config.failureRatio, windowSeconds: config.windowSeconds, minRequests: config.minRequests) : nil
        self.init(failureThreshold: config.failureThreshold, openSeconds: config.openSeconds, ratio: ratio, clock: clock)
    }

    package var state: State { status.withLock { $0.state } }

    /// Nil when a call may go out now; otherwise the seconds until a probe will be allowed.
    func permit() -> Double? {
        let now = clock.now()
        return status.withLock { status in
            switch status.state {
            case .closed:
                return nil
            case .open:
                let wait = status.openedAt + openSeconds - now
                guard wait <= 0 else { return wait }
                status.state = .halfOpen
                return nil
            case .halfOpen:
                // The probe is still out: everyone else waits for its verdict.
                return 1
            }
        }
    }

    func recordSuccess() {
        let second = Self.second(of: clock.now())
        status.withLock { status in
            status.state = .closed
            status.consecutiveFailures = 0
            Self.count(&status, second: second, failed: false)
        }
    }

    func recordFailure() {
        let now = clock.now()
        let second = Self.second(of: now)
        status.withLock { status in
            status.consecutiveFailures += 1
            Self.count(&status, second: second, failed: true)
            if status.state == .halfOpen || status.consecutiveFailures >= failureThreshold || ratioExceeded(status, second: second) {
                status.state = .open
                status.openedAt = now
                status.consecutiveFailures = 0
                for index in status.buckets.indices { status.buckets[index] = Bucket() }
            }
        }
    }

    /// An answer that says nothing about the dependency's health (e.g. our credentials were
    /// refused) still ends a half-open probe.
    func recordNeutral() {
        status.withLock { status in
            if status.state == .halfOpen {
                status.state = .closed
                status.consecutiveFailures = 0
            }
        }
    }

    private static func second(of now: Double) -> Int {
        now.isFinite && abs(now) < 1e15 ? Int(now.rounded(.down)) : 0
    }

    private static func count(_ status: inout Status, second: Int, failed: Bool) {
        guard !status.buckets.isEmpty else { return }
        let index = ((second % status.buckets.count) + status.buckets.count) % status.buckets.count
        if status.buckets[index].second != second { status.buckets[index] = Bucket(second: second) }
        status.buckets[index].calls += 1
        if failed { status.buckets[index].failures += 1 }
    }

    private func ratioExceeded(_ status: Status, second: Int) -> Bool {
        guard let ratio else { return false }
        var calls = 0
        var failures = 0
        for bucket in status.buckets where bucket.second > second - ratio.windowSeconds {
            calls += bucket.calls
            failures += bucket.failures
        }
        return calls >= ratio.minRequests && Double(failures) >= ratio.ratio * Double(calls)
    }
}
