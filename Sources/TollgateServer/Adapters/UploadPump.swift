import Hummingbird
import NIOCore
import Synchronization
import TollgateConfiguration

/// Feeds the caller's body to the upstream client from a task Tollgate owns. Hummingbird reads
/// the next request from the same connection once the response is written, so nothing may
/// still be reading this body by then: `finish` drains what the upstream did not want (it may
/// answer before reading everything), `abandon` stops at once and the connection is closed.
/// Nothing is read before `start()`, which the proxy calls only once it is about to send.
final class UploadPump: Sendable {
    struct Exceeded: Error {}
    struct Stalled: Error {}

    private let body: RequestBody
    private let limit: Int
    private let task = Mutex<Task<Bool, Never>?>(nil)

    init(body: RequestBody, limit: Int) {
        self.body = body
        self.limit = limit
    }

    /// What the upstream client reads, with backpressure towards the caller.
    func start() -> RequestBody {
        let (forwarded, source) = RequestBody.makeStream()
        let (body, limit) = (self.body, self.limit)
        let pump = Task {
            var seen = 0
            do {
                for try await chunk in body {
                    seen += chunk.readableBytes
                    if limit > 0 && seen > limit {
                        source.finish(Exceeded())
                        return true
                    }
                    // Once the upstream client has let go of the stream this returns at once.
                    await source.yield(chunk)
                }
                source.finish()
            } catch {
                source.finish(error)
            }
            return false
        }
        task.withLock { $0 = pump }
        return forwarded
    }

    /// Waits until the caller's body has been read to its end, for at most `limit`; false (and
    /// the reading stopped) when it did not end in time.
    func finish(within limit: Duration) async -> Bool {
        guard let pump = task.withLock({ $0 }) else { return true }
        let drained = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await pump.value; return true
            }
            group.addTask {
                try? await Task.sleep(for: limit); return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !drained { _ = await abandon() }
        return drained
    }

    /// Stops reading the caller's body. Returns whether it had grown past the limit.
    func abandon() async -> Bool {
        guard let pump = task.withLock({ $0 }) else { return false }
        pump.cancel()
        return await pump.value
    }
}
