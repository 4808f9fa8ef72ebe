import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Answers, on the connection's event loop, the requests `EventLoopAnswers` can decide without
/// waiting; hands every other request to the router unchanged (a held body as one part). Sits after Hummingbird's
/// connection-state handler, which so sees every request and answer (idle timeout, drain).
///
/// HTTP/1.1 order: a request is answered here only when no routed request on this connection is
/// still unanswered, so an answer never overtakes an earlier one.
final class EventLoopAnswerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let answers: EventLoopAnswers
    /// A request held until its end arrives, with its body so far; one that turns out to need the
    /// router (a body over its route's limit, trailers, a token not settled) is handed on whole.
    private var held: Held?
    /// Requests handed to the router whose answers have not been written to the end.
    private var routed = 0
    private var unflushed = false

    private struct Held {
        /// Made once, from the head: the router's own reading of its path decides the route here.
        let request: Request
        let route: EventLoopAnswers.Route
        let bodyLimit: Int
        var body: ByteBuffer?
    }

    init(answers: EventLoopAnswers) {
        self.answers = answers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if routed == 0 {
                let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
                if let (route, bodyLimit) = answers.route(for: request) {
                    held = Held(request: request, route: route, bodyLimit: bodyLimit)
                    return
                }
            }
            routed += 1
            context.fireChannelRead(data)
        case .body(var part):
            guard var pending = held else { return context.fireChannelRead(data) }
            if (pending.body?.readableBytes ?? 0) + part.readableBytes > pending.bodyLimit {
                route(pending, context)
                context.fireChannelRead(data)
            } else if pending.body == nil {
                pending.body = part
                held = pending
            } else {
                held = nil  // one owner of the buffer while it grows
                pending.body!.writeBuffer(&part)
                held = pending
            }
        case .end(let trailers):
            guard let pending = held else { return context.fireChannelRead(data) }
            if trailers == nil, let (response, body) = answers.answer(pending.request, route: pending.route, body: pending.body, channel: context.channel) {
                held = nil
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
                unflushed = true
                return
            }
            route(pending, context)
            context.fireChannelRead(data)
        }
    }

    /// Hands a held request to the router: its head and the body held so far.
    private func route(_ pending: Held, _ context: ChannelHandlerContext) {
        held = nil
        routed += 1
        context.fireChannelRead(wrapInboundOut(.head(pending.request.head)))
        if let body = pending.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routed -= 1 }
        context.write(data, promise: promise)
    }
}
