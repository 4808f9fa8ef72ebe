import HTTPTypes
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
        let head: HTTPRequest
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
            if routed == 0, let (route, bodyLimit) = answers.route(for: head) {
                held = Held(head: head, route: route, bodyLimit: bodyLimit)
            } else {
                routed += 1
                context.fireChannelRead(data)
            }
        case .body(var part):
            guard var request = held else { return context.fireChannelRead(data) }
            if (request.body?.readableBytes ?? 0) + part.readableBytes > request.bodyLimit {
                route(request, context)
                context.fireChannelRead(data)
            } else if request.body == nil {
                request.body = part
                held = request
            } else {
                held = nil  // one owner of the buffer while it grows
                request.body!.writeBuffer(&part)
                held = request
            }
        case .end(let trailers):
            guard let request = held else { return context.fireChannelRead(data) }
            if trailers == nil, let (response, body) = answers.answer(request.head, route: request.route, body: request.body, channel: context.channel) {
                held = nil
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
                unflushed = true
                return
            }
            route(request, context)
            context.fireChannelRead(data)
        }
    }

    /// Hands a held request to the router: its head and the body held so far.
    private func route(_ request: Held, _ context: ChannelHandlerContext) {
        held = nil
        routed += 1
        context.fireChannelRead(wrapInboundOut(.head(request.head)))
        if let body = request.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
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
