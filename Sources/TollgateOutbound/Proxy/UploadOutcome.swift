import NIOCore
import NIOHTTP1
import Synchronization

/// Streams a caller's body to an upstream connection while the answer is awaited (a peer may answer
/// early), and remembers whose fault it was when the stream ended badly: a body that failed, ended
/// short of its declared length or ran past it is the caller's, a write the connection refused is the
/// upstream's. Either closes the connection, which fails the exchange.
final class UploadOutcome: Sendable {
    private let failedByCaller = Atomic(false)

    var callerFailed: Bool { failedByCaller.load(ordering: .acquiring) }

    static func start<Body>(_ body: UpstreamBody<Body>, on channel: any Channel) -> UploadOutcome {
        let outcome = UploadOutcome()
        let (stream, declared) = (body.stream, body.length)
        Task {
            var sent = 0
            var chunks = stream.makeAsyncIterator()
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await chunks.next()
                } catch {
                    return await outcome.callerFault(channel)
                }
                guard let chunk else { break }
                sent += chunk.readableBytes
                if let declared, sent > declared { return await outcome.callerFault(channel) }
                do {
                    try await channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(chunk))).get()
                } catch {
                    return
                }
            }
            if let declared, sent != declared { return await outcome.callerFault(channel) }
            try? await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        }
        return outcome
    }

    private func callerFault(_ channel: any Channel) async {
        failedByCaller.store(true, ordering: .releasing)
        try? await channel.close()
    }
}
