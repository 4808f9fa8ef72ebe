import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

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
        // Redirects are Tollgate's answers under test (the console's sign-in), never followed.
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.base = "http://127.0.0.1:\(app.config.server.port)"
    }

    /// Starts Tollgate and waits for it to listen (and, when `waitReady`, for `/ready` to say 200).
    static func start(
        waitReady: Bool = true, clock: ManualClock = ManualClock(), _ adjust: (inout TollgateConfig) -> Void = { _ in }
    ) async throws -> RunningTollgate {
        // A port handed out by freePort() can be taken by another test's client socket before the
        // server binds it: a failed bind is retried on a new port.
        var attempt = 0
        while true {
            attempt += 1
            let port = try await freePort()
            let logs = LogCapture()
            let app = try await TollgateApp(config: devConfig(port: port, adjust), clock: clock, logger: logs.logger())
            let bindFailed = Mutex(false)
            let task = Task {
                do {
                    try await app.run(signals: [])
                } catch let error as ListenError {
                    bindFailed.withLock { $0 = true }
                    throw error
                }
            }
            let running = RunningTollgate(app: app, clock: clock, logs: logs, task: task)
            // Generous: with the whole suite running in parallel on 2 cores a start can take seconds,
            // and an issuer probe that timed out under that load is retried with backoff.
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline && !bindFailed.withLock({ $0 }) {
                if let response = try? await running.get("/ready"), response.status == 200 || !waitReady { return running }
                try await Task.sleep(for: .milliseconds(20))
            }
            await running.stop()
            if bindFailed.withLock({ $0 }) && attempt < 5 { continue }
            throw TestFailure("Tollgate did not become ready: \(logs.text)")
        }
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

    func put(_ path: String, json: String, headers: [(String, String)] = []) async throws -> Answer {
        try await send(path, method: .PUT, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }

    func send(_ path: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // Generous: with the whole suite running in parallel on 2 cores an answer can take seconds.
        // A deadline here is a hang detector, never a speed check.
        let response = try await client.execute(request, timeout: .seconds(30))
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
        let answer = try await post(
            "/dev-issuer/token", body: Array(FormEncoding.encode(form).utf8),
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic \(basic)"),
            ])
        guard answer.status == 200, let token = answer.json["access_token"] as? String else {
            throw TestFailure("token request failed: \(answer.status) \(answer.body)")
        }
        return token
    }

    /// `POST /plugin/authenticate` in MockForge shape A with the token in `credentials`.
    func authenticate(_ token: String) async throws -> Answer {
        try await post(
            "/plugin/authenticate",
            json: #"{"context":{"method":"GET","uri":"/api/users","headers":{}},"credentials":{"type":"bearer","token":"# + JSONText.string(token) + "}}")
    }

    /// Waits until `/ready` reports a reason containing `text` (e.g. discovery done, probe failed).
    func waitForNotReadyReason(containing text: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
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

/// Runs `body` against a started Tollgate, then awaits its shutdown, whether `body` returned or threw
/// (a `defer { Task { await tg.stop() } }` never waits, so one test's server could outlive it).
func withRunningTollgate(
    waitReady: Bool = true, clock: ManualClock = ManualClock(), configured adjust: (inout TollgateConfig) -> Void = { _ in },
    _ body: (RunningTollgate) async throws -> Void
) async throws {
    let tollgate = try await RunningTollgate.start(waitReady: waitReady, clock: clock, adjust)
    do {
        try await body(tollgate)
        await tollgate.stop()
    } catch {
        await tollgate.stop()
        throw error
    }
}
