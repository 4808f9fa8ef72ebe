import NIOCore
import NIOHTTP1

/// Why an exchange on an upstream connection ended without an answer.
enum UpstreamConnectionError: Error {
    case readTimeout
    case closed
}

/// A pooled connection: the channel, and the handler driving exchanges on it.
struct UpstreamConnection: Sendable {
    let channel: any Channel
    let handler: UpstreamConnectionHandler
}

/// One keep-alive HTTP/1.1 connection to an upstream, driven on its event loop. It carries one
/// exchange at a time: the response head arrives through a promise, the body through a
/// back-pressured sequence; when both the request and the response are complete and the peer
/// keeps the connection, `onReusable` hands it back to its pool.
final class UpstreamConnectionHandler: ChannelDuplexHandler, @unchecked Sendable {
    // Touched only on the channel's event loop.
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart
    typealias BodySource = NIOThrowingAsyncSequenceProducer<ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDelegate>.Source

    struct Answer {
        let head: HTTPResponseHead
        let body: UpstreamResponseBody
    }

    private let readTimeout: TimeAmount
    private let onReusable: @Sendable (UpstreamConnectionHandler, any Channel) -> Void
    private var context: ChannelHandlerContext?
    private var pendingHead: EventLoopPromise<Answer>?
    private var body: BodySource?
    /// The answer's head and first bytes while they may still turn out to be the whole answer.
    private var collected: (head: HTTPResponseHead, chunks: [ByteBuffer])?
    private var requestDone = false
    private var responseDone = false
    private var keepAlive = true
    private var timeout: Scheduled<Void>?
    private var lastRead = NIODeadline.now()
    /// Counts exchanges, so that a finished body's late callbacks never touch the next one.
    private var generation = 0

    init(readTimeout: TimeAmount, onReusable: @escaping @Sendable (UpstreamConnectionHandler, any Channel) -> Void) {
        self.readTimeout = readTimeout
        self.onReusable = onReusable
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Starts an exchange: the answer's head (and body) arrive through the returned future.
    func begin(on eventLoop: any EventLoop) -> EventLoopFuture<Answer> {
        eventLoop.assertInEventLoop()
        let promise = eventLoop.makePromise(of: Answer.self)
        guard let context, context.channel.isActive, pendingHead == nil, body == nil, collected == nil else {
            promise.fail(UpstreamConnectionError.closed)
            return promise.futureResult
        }
        pendingHead = promise
        generation &+= 1
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        requestDone = false
        responseDone = false
        lastRead = .now()
        arm(context)
        return promise.futureResult
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requestDone = true
            context.write(data, promise: promise)
            reuseIfDone(context)
            return
        }
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard pendingHead != nil, collected == nil else { return context.close(promise: nil) }
            keepAlive = head.isKeepAlive
            collected = (head, [])
        case .body(let buffer):
            if var gathered = collected {
                collected = nil
                gathered.chunks.append(buffer)
                if gathered.chunks.reduce(0, { $0 + $1.readableBytes }) > Self.wholeAnswerLimit {
                    startStreaming(context, head: gathered.head, chunks: gathered.chunks)
                } else {
                    collected = gathered
                }
            } else if body?.yield(buffer) == .stopProducing {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
        case .end:
            responseDone = true
            timeout?.cancel()
            timeout = nil
            if let gathered = collected, let promise = pendingHead {
                collected = nil
                pendingHead = nil
                promise.succeed(Answer(head: gathered.head, body: .whole(gathered.chunks)))
            }
            body?.finish()
            body = nil
            reuseIfDone(context)
        }
    }

    /// What one read brought is all there is for now: the answer streams from here on.
    func channelReadComplete(context: ChannelHandlerContext) {
        if let gathered = collected {
            collected = nil
            startStreaming(context, head: gathered.head, chunks: gathered.chunks)
        }
        context.fireChannelReadComplete()
    }

    /// Answers up to this size that arrive in one read are handed over whole, without a stream.
    static let wholeAnswerLimit = 64 * 1024

    private func startStreaming(_ context: ChannelHandlerContext, head: HTTPResponseHead, chunks: [ByteBuffer]) {
        guard let promise = pendingHead else { return }
        pendingHead = nil
        let sequence = NIOThrowingAsyncSequenceProducer.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(lowWatermark: 2, highWatermark: 8),
            finishOnDeinit: false,
            delegate: BodyDelegate(handler: self, eventLoop: context.eventLoop, generation: generation)
        )
        body = sequence.source
        if sequence.source.yield(contentsOf: chunks) == .stopProducing {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        promise.succeed(Answer(head: head, body: .stream(sequence.sequence)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(UpstreamConnectionError.closed)
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error) {
        timeout?.cancel()
        timeout = nil
        pendingHead?.fail(error)
        pendingHead = nil
        collected = nil
        body?.finish(error)
        body = nil
        responseDone = false
    }

    private func reuseIfDone(_ context: ChannelHandlerContext) {
        guard requestDone, responseDone else { return }
        requestDone = false
        responseDone = false
        if keepAlive && context.channel.isActive { onReusable(self, context.channel) } else { context.close(promise: nil) }
    }

    /// One timer per exchange: when it fires after a recent read it waits out the rest of the window.
    private func arm(_ context: ChannelHandlerContext) {
        timeout?.cancel()
        let deadline = lastRead + readTimeout
        timeout = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            guard pendingHead != nil || body != nil else { return }
            if NIODeadline.now() < lastRead + readTimeout { return arm(context) }
            fail(UpstreamConnectionError.readTimeout)
            context.close(promise: nil)
        }
    }

    fileprivate func produceMore(generation: Int) {
        guard generation == self.generation else { return }
        context?.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    /// The consumer stopped before the end: the rest of the answer is unwanted, so is the connection.
    fileprivate func consumerGone(generation: Int) {
        guard generation == self.generation, body != nil else { return }
        body = nil
        context?.close(promise: nil)
    }

    struct BodyDelegate: NIOAsyncSequenceProducerDelegate {
        let handler: UpstreamConnectionHandler
        let eventLoop: any EventLoop
        let generation: Int

        func produceMore() {
            eventLoop.execute { handler.produceMore(generation: generation) }
        }

        func didTerminate() {
            eventLoop.execute { handler.consumerGone(generation: generation) }
        }
    }
}

/// An upstream answer's body: a small answer that arrived whole, or bytes as the upstream sends
/// them, with back-pressure.
public struct UpstreamResponseBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    typealias Stream = NIOThrowingAsyncSequenceProducer<ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, UpstreamConnectionHandler.BodyDelegate>

    enum Source: Sendable {
        case whole([ByteBuffer])
        case stream(Stream)
    }

    let source: Source

    static func whole(_ chunks: [ByteBuffer]) -> Self { Self(source: .whole(chunks)) }
    static func stream(_ stream: Stream) -> Self { Self(source: .stream(stream)) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: IndexingIterator<[ByteBuffer]>?
        var inner: Stream.AsyncIterator?

        public mutating func next() async throws -> ByteBuffer? {
            if chunks != nil { return chunks?.next() }
            return try await inner?.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case .whole(let chunks): AsyncIterator(chunks: chunks.makeIterator(), inner: nil)
        case .stream(let stream): AsyncIterator(chunks: nil, inner: stream.makeAsyncIterator())
        }
    }

    /// The whole answer in one buffer, when it arrived whole.
    public var wholeBuffer: ByteBuffer? {
        guard case .whole(let chunks) = source else { return nil }
        guard chunks.count != 1 else { return chunks[0] }
        var joined = ByteBuffer()
        for var chunk in chunks { joined.writeBuffer(&chunk) }
        return joined
    }

    /// Reads and drops the rest (a 401 answer before a retry), up to `limit` bytes.
    func drain(limit: Int) async {
        var read = 0
        do {
            for try await chunk in self {
                read += chunk.readableBytes
                if read > limit { return }
            }
        } catch {}
    }
}
