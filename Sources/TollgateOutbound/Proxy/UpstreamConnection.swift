import NIOCore
import NIOHTTP1
import NIOSSL

/// A pooled connection: the channel, and the handler driving exchanges on it.
struct UpstreamConnection: Sendable {
    let channel: any Channel
    let handler: UpstreamConnectionHandler
}

/// One keep-alive HTTP/1.1 connection to an upstream, driven on its event loop through
/// `UpstreamExchangeState`. It carries one exchange at a time: the answer's head arrives through a
/// promise, its body through a back-pressured sequence; when both the request and the answer are
/// complete and the peer keeps the connection, `onReusable` hands it back to its pool, where it
/// closes after `idleTimeout` unused.
final class UpstreamConnectionHandler: ChannelDuplexHandler, @unchecked Sendable {
    // Touched only on the channel's event loop.
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart
    typealias BodySource = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDelegate
    >.Source

    struct Received {
        let head: HTTPResponseHead
        let body: UpstreamResponseBody
    }

    /// Answers up to this size that arrive in one read are handed over whole, without a stream.
    static let wholeAnswerLimit = 64 * 1024

    private let readTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let onReusable: @Sendable (UpstreamConnectionHandler, any Channel) -> Void
    private(set) var state = UpstreamExchangeState.idle
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// On the event loop's clock (virtual in tests).
    private var lastRead = NIODeadline.uptimeNanoseconds(0)
    /// Counts exchanges, so that a finished body's late callbacks never touch the next one.
    private var generation = 0

    init(readTimeout: TimeAmount, idleTimeout: TimeAmount, onReusable: @escaping @Sendable (UpstreamConnectionHandler, any Channel) -> Void) {
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        self.onReusable = onReusable
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armIdle(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .idle = state { armIdle(context) }
        context.fireChannelActive()
    }

    /// Starts an exchange: the answer's head (and body) arrive through the returned future.
    func begin(on eventLoop: any EventLoop) -> EventLoopFuture<Received> {
        eventLoop.assertInEventLoop()
        let promise = eventLoop.makePromise(of: Received.self)
        guard let context, context.channel.isActive, case .idle = state else {
            promise.fail(UpstreamConnectionError.closed)
            return promise.futureResult
        }
        state = .exchanging(.init(answer: .awaitingHead(promise)))
        generation &+= 1
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        lastRead = eventLoop.now
        armRead(context)
        return promise.futureResult
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        context.write(data, promise: promise)
        guard case .exchanging(var exchange) = state else { return }
        exchange.requestSent = true
        state = .exchanging(exchange)
        finishIfDone(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        guard case .exchanging(var exchange) = state else {
            // Bytes nobody asked for (on an idle connection, or after a failure): the peer and this side disagree.
            return failAndClose(context, UpstreamConnectionError.malformedAnswer)
        }
        switch (exchange.answer, unwrapInboundIn(data)) {
        case (.awaitingHead(let promise), .head(let head)):
            exchange.keepAlive = head.isKeepAlive
            exchange.answer = .collecting(promise, head, [])
            state = .exchanging(exchange)
        case (.collecting(let promise, let head, var chunks), .body(let buffer)):
            chunks.append(buffer)
            exchange.answer = .collecting(promise, head, chunks)
            state = .exchanging(exchange)
            if chunks.reduce(0, { $0 + $1.readableBytes }) > Self.wholeAnswerLimit { startStreaming(context) }
        case (.streaming(let source), .body(let buffer)):
            if source.yield(buffer) == .stopProducing {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
        case (.collecting(let promise, let head, let chunks), .end):
            exchange.answer = .complete
            state = .exchanging(exchange)
            promise.succeed(Received(head: head, body: .whole(chunks)))
            answerComplete(context)
        case (.streaming(let source), .end):
            exchange.answer = .complete
            state = .exchanging(exchange)
            source.finish()
            answerComplete(context)
        default:
            // A second head, a body before any head, anything after the end.
            failAndClose(context, UpstreamConnectionError.malformedAnswer)
        }
    }

    /// What one read brought is all there is for now: the answer streams from here on.
    func channelReadComplete(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state, case .collecting = exchange.answer { startStreaming(context) }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason: UpstreamConnectionError =
            switch error {
            case is HTTPParserError: .malformedAnswer
            // The TLS handshake (or a certificate check) refused: no usable connection was ever had.
            case is NIOSSLError, is BoringSSLError: .connect
            default: .closed
            }
        failAndClose(context, reason)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(UpstreamConnectionError.closed)
        context.fireChannelInactive()
    }

    private func startStreaming(_ context: ChannelHandlerContext) {
        guard case .exchanging(var exchange) = state, case .collecting(let promise, let head, let chunks) = exchange.answer else { return }
        let sequence = NIOThrowingAsyncSequenceProducer.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(lowWatermark: 2, highWatermark: 8),
            finishOnDeinit: false,
            delegate: BodyDelegate(handler: self, eventLoop: context.eventLoop, generation: generation)
        )
        exchange.answer = .streaming(sequence.source)
        state = .exchanging(exchange)
        if sequence.source.yield(contentsOf: chunks) == .stopProducing {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        promise.succeed(Received(head: head, body: .stream(sequence.sequence)))
    }

    private func answerComplete(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        finishIfDone(context)
    }

    /// Both directions complete: the connection goes back to its pool, or closes when the peer said so.
    private func finishIfDone(_ context: ChannelHandlerContext) {
        guard case .exchanging(let exchange) = state, exchange.requestSent, case .complete = exchange.answer else { return }
        guard exchange.keepAlive, context.channel.isActive else {
            state = .closed
            return context.close(promise: nil)
        }
        state = .idle
        armIdle(context)
        onReusable(self, context.channel)
    }

    /// Whatever is waiting on the exchange learns of `error`; the connection is never used again.
    private func fail(_ error: any Error) {
        timer?.cancel()
        timer = nil
        let previous = state
        state = .closed
        guard case .exchanging(let exchange) = previous else { return }
        switch exchange.answer {
        case .awaitingHead(let promise), .collecting(let promise, _, _): promise.fail(error)
        case .streaming(let source): source.finish(error)
        case .complete: break
        }
    }

    private func failAndClose(_ context: ChannelHandlerContext, _ error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    /// One timer per exchange: when it fires after a recent read it waits out the rest of the window.
    private func armRead(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.scheduleTask(deadline: lastRead + readTimeout) { [self] in
            guard case .exchanging(let exchange) = state else { return }
            if case .complete = exchange.answer { return }
            if context.eventLoop.now < lastRead + readTimeout { return armRead(context) }
            failAndClose(context, UpstreamConnectionError.readTimeout)
        }
    }

    /// An unused pooled connection closes after `idleTimeout` (the peer's own keep-alive timer may be shorter;
    /// a reused connection it closed is retried once by the proxy).
    private func armIdle(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let idleGeneration = generation
        timer = context.eventLoop.scheduleTask(in: idleTimeout) { [self] in
            guard case .idle = state, generation == idleGeneration else { return }
            state = .closed
            context.close(promise: nil)
        }
    }

    fileprivate func produceMore(generation: Int) {
        guard generation == self.generation else { return }
        context?.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    /// The consumer stopped before the end: the rest of the answer is unwanted, so is the connection.
    fileprivate func consumerGone(generation: Int) {
        guard generation == self.generation, case .exchanging(let exchange) = state, case .streaming = exchange.answer else { return }
        state = .closed
        timer?.cancel()
        timer = nil
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
