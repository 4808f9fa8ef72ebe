import Hummingbird
import Logging
import NIOCore
import Synchronization
import TollgateInbound
import Tracing

/// Requests whose answer cannot make anyone wait — forward auth, MockForge's plugin call and
/// Orthanc's web-service questions, with a token refused for its shape or found in the cache
/// unbound, a share token verified before, or none needed — answered on the connection's event
/// loop by the same adapter and middleware code the router runs, without entering Swift
/// concurrency. Anything else returns nil and goes to the router.
struct EventLoopAnswers: Sendable {
    let forwardAuth: ForwardAuthAdapter
    let mockForge: MockForgeAdapter
    let orthanc: TollgateApp.OrthancWebService
    let observability: ObservabilityMiddleware
    let authenticator: InboundAuthenticator
    let logger: Logger
    /// Hummingbird's `Server` header value (`ApplicationConfiguration.serverName`).
    let serverName: String?
    let dates = DateHeader()
    /// How many requests were answered here (tests read it to know which path answered).
    let count: EventLoopAnswerCount

    /// A route answered here, by the template the router gives it.
    enum Route {
        /// `/auth` or `/auth/**`.
        case forwardAuth(String)
        case mockForge
        /// Behind the web-service guard.
        case orthanc(OrthancQuestion)

        var template: String {
            switch self {
            case .forwardAuth(let template): template
            case .mockForge: "/plugin/authenticate"
            case .orthanc(.validate): "/tokens/validate"
            case .orthanc(.profile): "/user/get-profile"
            case .orthanc(.authorize): "/orthanc/authorize"
            }
        }

        /// The authorization plugin's questions, and the 1.10 filter's.
        enum OrthancQuestion {
            case validate, profile, authorize
        }

        /// The routes that take a POST body, by their path's two segments.
        static let posted: [(first: String, second: String, route: Route)] = [
            ("plugin", "authenticate", .mockForge), ("tokens", "validate", .orthanc(.validate)),
            ("user", "get-profile", .orthanc(.profile)), ("orthanc", "authorize", .orthanc(.authorize)),
        ]
    }

    /// The route this request would be answered on here, and the most body it may bring (a larger
    /// one goes to the router, which refuses it in its route's own words); nil for the router.
    /// `Connection` headers go to the router, which owns closing.
    func route(for request: Request) -> (route: Route, bodyLimit: Int)? {
        guard request.headers[.connection] == nil else { return nil }
        let path = request.uri.path
        if let template = Self.forwardAuthRoute(method: request.method, path: path) { return (.forwardAuth(template), 0) }
        // Every posted route reads its body within `server.max_body_bytes`.
        if request.method == .post, let route = Self.postedRoute(path) { return (route, mockForge.maxBodyBytes) }
        return nil
    }

    /// `/auth`, or `/auth/**` for anything below it (the router skips empty path segments).
    /// `/auth/outbound/…` is token injection's, and left to the router whole.
    static func forwardAuthRoute(method: HTTPRequest.Method, path: String) -> String? {
        guard ForwardAuthAdapter.methods.contains(method) else { return nil }
        var segments = PathSegments(path)
        guard let first = segments.next(), first.elementsEqual("auth".utf8) else { return nil }
        guard let second = segments.next() else { return "/auth" }
        return second.elementsEqual("outbound".utf8) ? nil : "/auth/**"
    }

    /// The POST route whose path is exactly these two segments.
    static func postedRoute(_ path: String) -> Route? {
        var segments = PathSegments(path)
        guard let first = segments.next(), let second = segments.next(), segments.next() == nil else { return nil }
        return Route.posted.first { first.elementsEqual($0.first.utf8) && second.elementsEqual($0.second.utf8) }?.route
    }

    /// The whole answer, or nil for the router (before anything was noted or counted).
    func answer(_ request: Request, route: Route, body: ByteBuffer?, channel: any Channel) -> (HTTPResponse, ByteBuffer?)? {
        var request = request
        if let body { request.body = RequestBody(buffer: body) }
        let decide: (TollgateRequestContext) -> Answer
        switch route {
        case .forwardAuth:
            guard let settled = authenticator.settled(authorization: request.headers[values: .authorization]) else { return nil }
            decide = { forwardAuth.authorize(request, $0, settled: settled) }
        case .mockForge:
            guard let settled = mockForge.settle(body ?? ByteBuffer()) else { return nil }
            decide = { mockForge.authenticate(settled, context: $0) }
        case .orthanc(let question):
            guard let settled = settledOrthanc(request, question, body: body ?? ByteBuffer()) else { return nil }
            decide = settled
        }
        var context = TollgateRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        context.coreContext.endpointPath.value = route.template
        let scope = observability.begin(request, context: &context)
        let answer: Answer
        if let trace = scope.trace {
            answer = InstrumentationContext.$current.withValue(trace.context) { [context] in decide(context) }
        } else {
            answer = decide(context)
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

    /// The web-service guard's refusal, or the route's settled answer.
    private func settledOrthanc(_ request: Request, _ question: Route.OrthancQuestion, body: ByteBuffer) -> SettledAnswer? {
        guard orthanc.guardian.passes(request) else { return { [orthanc] in orthanc.guardian.refuse($0) } }
        switch question {
        case .validate: return orthanc.plugin.settledValidate(body)
        case .profile: return orthanc.plugin.settledProfile(body)
        case .authorize: return orthanc.filter.settledAuthorize(body)
        }
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

/// A path's segments as the router reads them: runs of `/` skipped, no decoding.
struct PathSegments: IteratorProtocol {
    private let path: String
    private var position: String.Index

    init(_ path: String) {
        self.path = path
        position = path.utf8.startIndex
    }

    mutating func next() -> Substring.UTF8View? {
        let bytes = path.utf8
        while position < bytes.endIndex, bytes[position] == UInt8(ascii: "/") { bytes.formIndex(after: &position) }
        guard position < bytes.endIndex else { return nil }
        let start = position
        while position < bytes.endIndex, bytes[position] != UInt8(ascii: "/") { bytes.formIndex(after: &position) }
        return path[start..<position].utf8
    }
}
