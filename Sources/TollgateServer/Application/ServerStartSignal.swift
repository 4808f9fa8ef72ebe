import ServiceLifecycle
import Synchronization
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// Background work that must wait until the HTTP server listens (a token endpoint or issuer may be
/// Tollgate's own dev issuer), then runs until graceful shutdown. One service per piece of work.
final class ServerStartSignal: Sendable {
    private enum State {
        case waiting([Int: CheckedContinuation<Bool, Never>], nextID: Int)
        case ended(listening: Bool)
    }

    private let state = Mutex(State.waiting([:], nextID: 0))
    private let work: [@Sendable () async -> Void]

    init(work: [@Sendable () async -> Void]) {
        self.work = work
    }

    /// The server listens: every waiting service starts its work.
    func fire() { end(listening: true) }

    /// Never listening after all (shutdown before start): waiting services end.
    func finish() { end(listening: false) }

    var services: [any Service] { work.map { AfterServerStart(signal: self, work: $0) } }

    /// True once the server listens; false if the signal ended first or the waiter was cancelled.
    func wait() async -> Bool {
        let id = state.withLock { state -> Int? in
            guard case .waiting(let waiters, let next) = state else { return nil }
            state = .waiting(waiters, nextID: next + 1)
            return next
        }
        guard let id else { return state.withLock { if case .ended(let listening) = $0 { listening } else { false } } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool? in
                    switch state {
                    case .waiting(var waiters, let next):
                        if Task.isCancelled { return false }
                        waiters[id] = continuation
                        state = .waiting(waiters, nextID: next)
                        return nil
                    case .ended(let listening):
                        return listening
                    }
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard case .waiting(var waiters, let next) = state else { return nil }
                let waiter = waiters.removeValue(forKey: id)
                state = .waiting(waiters, nextID: next)
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }

    private func end(listening: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard case .waiting(let waiters, _) = state else { return [] }
            state = .ended(listening: listening)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: listening) }
    }
}

/// Waits for the server to listen, then runs its work until graceful shutdown. Work that ends
/// early still waits for the shutdown: a service that returns would stop the whole group.
private struct AfterServerStart: Service {
    let signal: ServerStartSignal
    let work: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            guard await signal.wait(), !Task.isCancelled else { return }
            await work()
        }
        try? await gracefulShutdown()
    }
}
