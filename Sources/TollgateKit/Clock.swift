import Foundation
import Synchronization

/// Wall-clock seconds since the epoch, injectable so tests can move time.
public protocol TollgateClock: Sendable {
    func now() -> Double
}

public struct SystemClock: TollgateClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that moves when told to; a `running` one also follows real time, so background work
/// that sleeps for real still sees time pass while a test can jump ahead.
public final class ManualClock: TollgateClock {
    private let offset: Mutex<Double>
    private let origin = ContinuousClock.now
    private let running: Bool

    public init(_ start: Double = Date().timeIntervalSince1970, running: Bool = false) {
        offset = Mutex(start)
        self.running = running
    }

    public func now() -> Double {
        let base = offset.withLock { $0 }
        guard running else { return base }
        return base + (ContinuousClock.now - origin).seconds
    }

    public func advance(by seconds: Double) { offset.withLock { $0 += seconds } }
}
