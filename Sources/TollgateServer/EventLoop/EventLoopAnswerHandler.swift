import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers, on the connection's event loop, the requests `EventLoopAnswers` can decide without
/// waiting; hands every other request to the router unchanged. Sits after Hummingbird's
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
    /// A head held until its end arrives: a request with a body or trailers goes to the router.
    private var held: HTTPRequest?
    /// Requests handed to the router whose answers have not been written to the end.
    private var routed = 0
    private var unflushed = false

    init(answers: EventLoopAnswers) {
        self.answers = answers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if routed == 0 {
                held = head
            } else {
                route(head, context)
            }
        case .body:
            if let head = held { route(head, context) }
            context.fireChannelRead(data)
        case .end(let trailers):
            if let head = held {
                if trailers == nil, let (response, body) = answers.answer(head, channel: context.channel) {
                    held = nil
                    context.write(wrapOutboundOut(.head(response)), promise: nil)
                    if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                    context.write(wrapOutboundOut(.end(nil)), promise: nil)
                    unflushed = true
                    return
                }
                route(head, context)
            }
            context.fireChannelRead(data)
        }
    }

    private func route(_ head: HTTPRequest, _ context: ChannelHandlerContext) {
        held = nil
        routed += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
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
