import Synchronization

/// At most one run of a piece of work per key at a time: whoever asks while it runs waits for the
/// same result. The work runs in its own task, so a waiter that is cancelled (a caller hanging up)
/// never cancels it for the others; only `cancel(_:)` does. A run's entry is gone before its result
/// is handed out, so a caller arriving afterwards starts a new one.
package final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Flight {
        let id: UInt64
        let task: Task<Value, Never>
        var joiners = 0
    }

    private struct State {
        var running: [Key: Flight] = [:]
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The running work's result, or `work`'s, started now; `joined` tells which.
    package func run(_ key: Key, _ work: @escaping @Sendable () async -> Value) async -> (value: Value, joined: Bool) {
        let (task, joined) = state.withLock { state -> (Task<Value, Never>, Bool) in
            if let flight = state.running[key] {
                state.running[key]?.joiners += 1
                return (flight.task, true)
            }
            state.lastID &+= 1
            let id = state.lastID
            // The entry is in place before the task can take the lock to remove it.
            let task = Task { [self] in
                let value = await work()
                self.state.withLock { if $0.running[key]?.id == id { $0.running[key] = nil } }
                return value
            }
            state.running[key] = Flight(id: id, task: task)
            return (task, false)
        }
        return (await task.value, joined)
    }

    /// The result of a run under way, without starting one; nil when none is.
    package func joinRunning(_ key: Key) async -> Value? {
        guard let task = state.withLock({ $0.running[key]?.task }) else { return nil }
        return await task.value
    }

    /// Later callers start a new run; the one under way still finishes for those already waiting.
    package func forget(_ key: Key) {
        _ = state.withLock { $0.running.removeValue(forKey: key) }
    }

    /// Cancels the run under way (its waiters get whatever the cancelled work returns) and forgets it.
    package func cancel(_ key: Key) {
        state.withLock { $0.running.removeValue(forKey: key) }?.task.cancel()
    }

    package func isRunning(_ key: Key) -> Bool {
        state.withLock { $0.running[key] != nil }
    }

    /// How many callers joined the run under way after it started.
    package func joiners(_ key: Key) -> Int {
        state.withLock { $0.running[key]?.joiners ?? 0 }
    }
}
