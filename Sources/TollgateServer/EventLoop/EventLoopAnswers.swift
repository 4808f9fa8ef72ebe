import Hummingbird
import Logging
import NIOCore
import Synchronization
import TollgateInbound
import Tracing

/// Forward-auth requests whose answer cannot make anyone wait (the token is settled: refused for
/// its shape or found in the cache unbound, and nothing else needs a look-up), answered on the
/// connection's event loop by the same adapter and middleware code the router runs, without
/// entering Swift concurrency. Anything else returns nil and goes to the router.
struct EventLoopAnswers: Sendable {
    let forwardAuth: ForwardAuthAdapter
    let observability: ObservabilityMiddleware
    let authenticator: InboundAuthenticator
    let logger: Logger
    /// Hummingbird's `Server` header value (`ApplicationConfiguration.serverName`).
    let serverName: String?
    let dates = HTTPDate()
    /// How many requests were answered here (tests read it to know which path answered).
    let count: EventLoopAnswerCount

    /// The route the router would give this request, when it is one answered here: `/auth`, or
    /// `/auth/**` for anything below it (the router skips empty path segments). `/auth/outbound/…`
    /// is token injection's, and left to the router whole.
    static func route(method: HTTPRequest.Method, path: String) -> String? {
        guard ForwardAuthAdapter.methods.contains(method) else { return nil }
        let bytes = path.utf8
        var position = bytes.startIndex
        func segment() -> Substring.UTF8View? {
            while position < bytes.endIndex, bytes[position] == UInt8(ascii: "/") { bytes.formIndex(after: &position) }
            guard position < bytes.endIndex else { return nil }
            let start = position
            while position < bytes.endIndex, bytes[position] != UInt8(ascii: "/") { bytes.formIndex(after: &position) }
            return path[start..<position].utf8
        }
        guard let first = segment(), first.elementsEqual("auth".utf8) else { return nil }
        guard let second = segment() else { return "/auth" }
        return second.elementsEqual("outbound".utf8) ? nil : "/auth/**"
    }

    /// The whole answer, or nil for the router. `Connection` headers go to the router, which owns closing.
    func answer(_ head: HTTPRequest, channel: any Channel) -> (HTTPResponse, ByteBuffer?)? {
        guard head.headerFields[.connection] == nil else { return nil }
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        guard let route = Self.route(method: head.method, path: request.uri.path),
            let settled = authenticator.settled(authorization: head.headerFields[values: .authorization])
        else { return nil }
        var context = TollgateRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        context.coreContext.endpointPath.value = route
        let scope = observability.begin(request, context: &context)
        let answer: Answer
        if let trace = scope.trace {
            answer = InstrumentationContext.$current.withValue(trace.context) { [context] in
                forwardAuth.authorize(request, context, settled: settled)
            }
        } else {
            answer = forwardAuth.authorize(request, context, settled: settled)
        }
        var finished = FinishedInMemory(response: answer.response, body: answer.body)
        observability.finish(request, context: context, scope: scope, response: &finished)
        // What Hummingbird's application adds to every response, in its order.
        var response = finished.response.head
        response.headerFields[.date] = dates.now
        if let serverName { response.headerFields[.server] = serverName }
        count.add()
        return (response, finished.body)
    }

    /// The response and the body it was made from (a `Response`'s own body cannot be read back without waiting).
    private struct FinishedInMemory: FinishedAnswer {
        var response: Response
        var body: ByteBuffer?

        var status: HTTPResponse.Status { response.status }
        var headers: HTTPFields {
            get { response.headers }
            set { response.headers = newValue }
        }

        mutating func replace(with answer: Answer) {
            response = answer.response
            body = answer.body
        }
    }
}

final class EventLoopAnswerCount: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}
