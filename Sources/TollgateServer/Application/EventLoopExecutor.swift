import CTollgateExecutorHook
import NIOCore
import NIOPosix
import Synchronization

/// Swift Concurrency's tasks on NIO's event loops. Hummingbird runs every connection's handler as
/// a task; with Swift's own global pool each request crosses threads (event loop → pool → event
/// loop). With the event loops as the global executor a request stays on the thread that read it.
/// This is NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`,
/// reaching the runtime's hook at link time because the static binary does not export it to dlsym.
package enum EventLoopExecutor {
    /// `TOLLGATE_GLOBAL_EXECUTOR=swift` keeps Swift's own pool (the takeover is process-wide).
    package static let optOutVariable = "TOLLGATE_GLOBAL_EXECUTOR"

    /// Must run first thing in `main`, before any task is enqueued on the global executor.
    @discardableResult
    package static func install(environment: [String: String]) -> Bool {
        guard environment[optOutVariable] != "swift" else { return false }
        let installed = tollgate_install_enqueue_global_hook(enqueueOnEventLoop) == 1
        if installed { onEventLoops.store(true, ordering: .relaxed) }
        return installed
    }

    /// What runs tasks in this process, as the start-up log line names it.
    static var name: String { onEventLoops.load(ordering: .relaxed) ? "nio" : "swift" }

    private static let onEventLoops = Atomic(false)
}

/// `any()` is sticky: a job enqueued from an event loop of the group stays on that loop.
private let enqueueOnEventLoop: tollgate_enqueue_global_hook = { job, _ in
    guard let job else { return }
    MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(unsafeBitCast(job, to: UnownedJob.self))
}
