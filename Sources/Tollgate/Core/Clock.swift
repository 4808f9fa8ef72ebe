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

/// A clock that only moves when told to.
public final class ManualClock: TollgateClock {
    private let current: Mutex<Double>

    public init(_ start: Double = Date().timeIntervalSince1970) { current = Mutex(start) }

    public func now() -> Double { current.withLock { $0 } }

    public func advance(by seconds: Double) { current.withLock { $0 += seconds } }
}
