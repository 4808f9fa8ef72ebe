import Synchronization

/// Set once SIGTERM (or SIGINT) arrives: `/ready` answers 503 from then on, while requests are
/// still served for `server.shutdown_delay_seconds`, so load balancers take the pod out before
/// its listener closes.
final class DrainState: Sendable {
    private let draining = Atomic<Bool>(false)

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// True the first time only.
    func begin() -> Bool {
        !draining.exchange(true, ordering: .relaxed)
    }
}

/// Whether the start-up gate has been passed once (`server.readiness: startup`): afterwards only
/// this replica's own faults make it unready.
final class StartupGate: Sendable {
    private let passed = Atomic<Bool>(false)

    var isPassed: Bool { passed.load(ordering: .relaxed) }

    func pass() { passed.store(true, ordering: .relaxed) }
}
