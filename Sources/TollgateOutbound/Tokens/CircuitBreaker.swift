import Synchronization
import TollgateConfiguration
import TollgateKit

/// Guards one token endpoint: after `failureThreshold` consecutive failed attempts it opens and
/// refuses calls for `openSeconds`, then lets exactly one probe through (half-open). A success
/// closes it; a failed probe opens it again.
public final class CircuitBreaker: Sendable {
    public enum State: Int, Sendable {
        case closed = 0, open = 1, halfOpen = 2

        public var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half_open"
            }
        }
    }

    private struct Status {
        var state: State = .closed
        var consecutiveFailures = 0
        var openedAt = 0.0
    }

    private let failureThreshold: Int
    private let openSeconds: Double
    private let clock: any TollgateClock
    private let status = Mutex(Status())

    init(config: CircuitBreakerConfig, clock: any TollgateClock) {
        failureThreshold = config.failureThreshold
        openSeconds = Double(config.openSeconds)
        self.clock = clock
    }

    public var state: State { status.withLock { $0.state } }

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
        status.withLock { $0 = Status() }
    }

    func recordFailure() {
        let now = clock.now()
        status.withLock { status in
            status.consecutiveFailures += 1
            if status.state == .halfOpen || status.consecutiveFailures >= failureThreshold {
                status.state = .open
                status.openedAt = now
            }
        }
    }

    /// An answer that says nothing about the endpoint's health (e.g. our credentials were refused)
    /// still ends a half-open probe.
    func recordNeutral() {
        status.withLock { status in
            if status.state == .halfOpen { status = Status() }
        }
    }
}
