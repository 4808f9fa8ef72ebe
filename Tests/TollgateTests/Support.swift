import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
@testable import Tollgate

/// Ports already handed to a test: the kernel may give a released port to the next bind(0), and
/// tests start servers in parallel.
private let portsHandedOut = Mutex<Set<Int>>([])

/// A free loopback TCP port, found by binding port 0 and releasing it; never the same twice.
func freePort() async throws -> Int {
    while true {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        if portsHandedOut.withLock({ $0.insert(port).inserted }) { return port }
    }
}

/// Log lines captured in memory so tests can assert what never appears in them.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(all)")
        }
    }
}

/// The dev-issuer config the tests start from.
func devConfig(port: Int, _ adjust: (inout TollgateConfig) -> Void = { _ in }) -> TollgateConfig {
    var config = TollgateConfig()
    config.server.port = port
    config.log.level = .trace
    config.devIssuer = DevIssuerConfig(enabled: true, clients: [
        DevClientConfig(clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret", scopes: ["read", "write"]),
        DevClientConfig(clientID: "reader", clientSecret: "reader secret&=+", scopes: ["read"]),
    ])
    config.inbound.issuers = [
        IssuerConfig(name: "dev", issuer: nil, embedded: true, introspection: IntrospectionConfig(clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret")),
    ]
    adjust(&config)
    return config
}

/// A running Tollgate on loopback with a manual clock and an HTTP client to talk to it.
final class RunningTollgate: Sendable {
    let app: TollgateApp
    let clock: ManualClock
    let logs: LogCapture
    let client: HTTPClient
    let base: String
    private let task: Task<Void, any Error>

    private init(app: TollgateApp, clock: ManualClock, logs: LogCapture, task: Task<Void, any Error>) {
        self.app = app
        self.clock = clock
        self.logs = logs
        self.task = task
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        self.base = "http://127.0.0.1:\(app.config.server.port)"
    }

    /// Starts Tollgate and waits for it to listen (and, when `waitReady`, for `/ready` to say 200).
    static func start(waitReady: Bool = true, clock: ManualClock = ManualClock(), _ adjust: (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        let port = try await freePort()
        let logs = LogCapture()
        let app = try await TollgateApp(config: devConfig(port: port, adjust), clock: clock, logger: logs.logger())
        let task = Task { try await app.run(signals: []) }
        let running = RunningTollgate(app: app, clock: clock, logs: logs, task: task)
        // Generous: with the whole suite running in parallel on 2 cores a start can take seconds.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await running.get("/ready"), response.status == 200 || !waitReady { return running }
            try await Task.sleep(for: .milliseconds(20))
        }
        await running.stop()
        throw TestFailure("Tollgate did not become ready: \(logs.text)")
    }

    /// Graceful, like SIGTERM (cancelling the server task instead can drop accepted connections
    /// unhandled, which NIO treats as a programming error).
    func stop() async {
        await app.shutdown()
        _ = await task.result
        try? await client.shutdown()
    }

    struct Answer {
        let status: UInt
        let headers: [(String, String)]
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Answer {
        try await send(path, method: .GET, headers: headers, body: nil)
    }

    func post(_ path: String, body: [UInt8], headers: [(String, String)] = []) async throws -> Answer {
        try await send(path, method: .POST, headers: headers, body: body)
    }

    func post(_ path: String, json: String, headers: [(String, String)] = []) async throws -> Answer {
        try await post(path, body: Array(json.utf8), headers: [("Content-Type", "application/json")] + headers)
    }

    func send(_ path: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let data = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: UInt(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: data))
    }

    // MARK: Dev issuer and MockForge helpers

    /// A fresh access token from the dev issuer (client_secret_basic).
    func token(client: String = "tollgate-dev", secret: String = "tollgate-dev-secret", scope: String? = nil, resource: String? = nil) async throws -> String {
        var form = [("grant_type", "client_credentials")]
        if let scope { form.append(("scope", scope)) }
        if let resource { form.append(("resource", resource)) }
        let basic = Data((FormEncoding.encode(client) + ":" + FormEncoding.encode(secret)).utf8).base64EncodedString()
        let answer = try await post("/dev-issuer/token", body: Array(FormEncoding.encode(form).utf8), headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic \(basic)"),
        ])
        guard answer.status == 200, let token = answer.json["access_token"] as? String else {
            throw TestFailure("token request failed: \(answer.status) \(answer.body)")
        }
        return token
    }

    /// `POST /plugin/authenticate` in MockForge shape A with the token in `credentials`.
    func authenticate(_ token: String) async throws -> Answer {
        try await post("/plugin/authenticate", json: #"{"context":{"method":"GET","uri":"/api/users","headers":{}},"credentials":{"type":"bearer","token":"# + JSONText.string(token) + "}}")
    }

    /// Waits until `/ready` reports a reason containing `text` (e.g. discovery done, probe failed).
    func waitForNotReadyReason(containing text: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let reasons = try await get("/ready").json["reasons"] as? [String] ?? []
            if reasons.contains(where: { $0.contains(text) }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("no readiness reason containing \(text)")
    }

    var introspections: Int { app.devIssuer!.requestCount(.introspect) }

    func metric(_ line: String) async throws -> Double? {
        let text = try await get("/metrics").body
        for candidate in text.split(separator: "\n") where candidate.hasPrefix(line + " ") {
            return Double(candidate.dropFirst(line.count + 1))
        }
        return nil
    }
}

extension RunningTollgate.Answer {
    var authenticated: Bool? { (json["result"] as? [String: Any])?["authenticated"] as? Bool }
    var claims: [String: Any] { ((json["result"] as? [String: Any])?["claims"] as? [String: Any]) ?? [:] }
    var refusal: String? { claims["error"] as? String }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A deliberately misbehaving IdP on loopback: discovery works, introspection answers per mode.
final class BrokenIdP: Sendable {
    enum Mode: String, CaseIterable { case html, yes, slow, error, unauthorized }

    let port: Int
    private let server: TestHTTPServer
    /// What `GET /jwks` answers, switchable mid-test.
    let jwks: JWKSBox

    var base: String { "http://127.0.0.1:\(port)" }
    func issuer(_ mode: Mode) -> String { "\(base)/\(mode.rawValue)" }

    private init(port: Int, server: TestHTTPServer, jwks: JWKSBox) {
        self.port = port
        self.server = server
        self.jwks = jwks
    }

    static func start() async throws -> BrokenIdP {
        let port = try await freePort()
        let router = Router()
        let base = "http://127.0.0.1:\(port)"
        let box = JWKSBox()
        router.get("jwks") { _, _ -> Response in
            let (status, body, cacheControl) = box.current
            var headers: HTTPFields = [.contentType: "application/json"]
            if let cacheControl { headers[.cacheControl] = cacheControl }
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("{mode}/.well-known/openid-configuration") { _, context in
            let mode = context.parameters.get("mode")!
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string:
                #"{"issuer":"\#(base)/\#(mode)","introspection_endpoint":"\#(base)/\#(mode)/introspect"}"#)))
        }
        router.post("{mode}/introspect") { _, context -> Response in
            switch Mode(rawValue: context.parameters.get("mode")!) {
            case .html: return Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html><body>Login</body></html>")))
            case .yes: return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"active":"yes"}"#)))
            case .slow:
                try await Task.sleep(for: .milliseconds(1500))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"active":false}"#)))
            case .error: return Response(status: .internalServerError)
            case .unauthorized, nil: return Response(status: .unauthorized)
            }
        }
        let server = try await TestHTTPServer.start(router: router, port: port)
        return BrokenIdP(port: port, server: server, jwks: box)
    }

    func stop() async { await server.stop() }
}

/// An issuer entry pointing at one of the broken IdP's modes.
func brokenIssuer(_ idp: BrokenIdP, _ mode: BrokenIdP.Mode, timeoutMS: Int = 2000) -> IssuerConfig {
    IssuerConfig(name: "broken-\(mode.rawValue)", issuer: idp.issuer(mode), introspection: IntrospectionConfig(
        clientID: "tollgate", clientSecret: "broken-secret", timeoutMS: timeoutMS))
}

/// The broken IdP's JWKS answer: status, body and Cache-Control, shared by its route and the test.
final class JWKSBox: Sendable {
    private let state = Mutex<(status: Int, body: String, cacheControl: String?)>((500, "", nil))
    var current: (status: Int, body: String, cacheControl: String?) { state.withLock { $0 } }
    func set(status: Int, body: String = "", cacheControl: String? = nil) { state.withLock { $0 = (status, body, cacheControl) } }
}

/// A Hummingbird server written in a test, run in a service group so that it stops gracefully.
final class TestHTTPServer: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(group: ServiceGroup, task: Task<Void, any Error>) {
        self.group = group
        self.task = task
    }

    static func start(router: Router<BasicRequestContext>, port: Int) async throws -> TestHTTPServer {
        let quiet = Logger(label: "test-server") { _ in SwiftLogNoOpLogHandler() }
        let (listening, listeningContinuation) = AsyncStream.makeStream(of: Void.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { _ in listeningContinuation.finish() }, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        let task = Task { try await group.run() }
        for await _ in listening {}
        return TestHTTPServer(group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
