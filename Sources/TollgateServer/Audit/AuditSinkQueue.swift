import DequeModule
import Synchronization
import TollgateKit

/// The bounded buffer in front of one sink, and the task that empties it: a slow or failing sink
/// never blocks a request. A record stays in the buffer until the sink took it, so a receiver that
/// is down keeps up to `capacity` records; beyond that each one is counted as dropped.
final class AuditSinkQueue: Sendable {
    private struct State {
        var pending = Deque<AuditRecord>()
        var waiter: CheckedContinuation<Void, Never>?
        var closing = false
        /// Monotonic seconds of the first failure in the current run of failures.
        var failingSince: ContinuousClock.Instant?
        var lastFailure: String?
    }

    let sink: any AuditSink
    private let capacity: Int
    private let observer: any AuditObserver
    private let state = Mutex(State())
    private static let batchSize = 256

    init(sink: any AuditSink, capacity: Int, observer: any AuditObserver) {
        self.sink = sink
        self.capacity = capacity
        self.observer = observer
    }

    /// Adds a record; false when the buffer is full or the trail is closing (the record is counted as dropped).
    func offer(_ record: AuditRecord) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.closing, state.pending.count < capacity else { return (false, nil) }
            state.pending.append(record)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        if !accepted { observer.auditDropped(sink: sink.name, count: 1) }
        return accepted
    }

    var depth: Int { state.withLock { $0.pending.count } }

    /// How long the sink has been failing, and why; nil while it writes.
    func failure(now: ContinuousClock.Instant = .now) -> (duration: Duration, reason: String)? {
        state.withLock { state in state.failingSince.map { (now - $0, state.lastFailure ?? "unknown") } }
    }

    /// Writes until closed and empty. After `close`, a sink that still fails gets until `deadline`;
    /// what is left then is counted as dropped.
    func run(closeDeadline: @escaping @Sendable () -> ContinuousClock.Instant?) async {
        // A receiver not there at start-up is reported, and its first write is retried as usual.
        var unreachableAtStart = false
        if let failure = await sink.prepare() {
            observer.auditSinkFailed(sink: sink.name, reason: PrintableText.clean(failure, limit: 200))
            unreachableAtStart = true
        }
        var failures = 0
        while let batch = await nextBatch() {
            let result = await sink.write(batch[...])
            let written = min(max(result.written, 0), batch.count)
            let reason = result.failure.map { PrintableText.clean($0, limit: 200) }
            let recovered = state.withLock { state -> Bool in
                state.pending.removeFirst(written)
                if let reason {
                    if state.failingSince == nil { state.failingSince = .now }
                    state.lastFailure = reason
                    return false
                }
                defer {
                    state.failingSince = nil
                    state.lastFailure = nil
                }
                return state.failingSince != nil
            }
            if written > 0 { observer.auditWritten(sink: sink.name, count: written) }
            guard let reason else {
                if recovered || unreachableAtStart { observer.auditSinkRecovered(sink: sink.name) }
                unreachableAtStart = false
                failures = 0
                continue
            }
            observer.auditSinkFailed(sink: sink.name, reason: reason)
            if let deadline = closeDeadline(), ContinuousClock.now >= deadline {
                let left = state.withLock { state in
                    defer { state.pending.removeAll() }
                    return state.pending.count
                }
                observer.auditDropped(sink: sink.name, count: left)
                return
            }
            failures += 1
            // While closing, retry often: the deadline, not the backoff, decides when to give up.
            let pause = closeDeadline() == nil ? Backoff.delay(attempt: failures, baseMS: 100, maxMS: 5000) : 0.2
            try? await Task.sleep(for: .seconds(pause))
        }
    }

    /// The oldest records (left in the buffer until written); nil once closing and empty.
    private func nextBatch() async -> [AuditRecord]? {
        while true {
            enum Next {
                case batch([AuditRecord])
                case done
                case wait
            }
            let next = state.withLock { state -> Next in
                if !state.pending.isEmpty { return .batch(Array(state.pending.prefix(Self.batchSize))) }
                return state.closing ? .done : .wait
            }
            switch next {
            case .batch(let batch): return batch
            case .done: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.pending.isEmpty || state.closing { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// No more records are taken; the run loop ends once the buffer is empty (or the deadline passed).
    func close() {
        let waiter = state.withLock { state in
            state.closing = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
