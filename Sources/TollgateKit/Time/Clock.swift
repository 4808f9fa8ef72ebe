import Foundation
import Synchronization

/// Wall-clock seconds since the epoch, injectable so tests can move time.
package protocol TollgateClock: Sendable {
    func now() -> Double
}

package struct SystemClock: TollgateClock {
    package init() {}
    package func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that moves when told to; a `running` one also follows real time, so background work
/// that sleeps for real still sees time pass while a test can jump ahead.
package final class ManualClock: TollgateClock {
    private let offset: Mutex<Double>
    private let origin = ContinuousClock.now
    private let running: Bool

    package init(_ start: Double = Date().timeIntervalSince1970, running: Bool = false) {
        offset = Mutex(start)
        self.running = running
    }

    package func now() -> Double {
        let base = offset.withLock { $0 }
        guard running else { return base }
        return base + (ContinuousClock.now - origin).seconds
    }

    package func advance(by seconds: Double) { offset.withLock { $0 += seconds } }
}
