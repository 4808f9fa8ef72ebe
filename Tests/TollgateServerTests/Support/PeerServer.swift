import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// A scripted OAuth token endpoint and a DICOMweb-like upstream on loopback, written with
/// Hummingbird, for the outbound fault cases.
final class PeerServer: Sendable {
    struct Reply: Sendable {
        var status = 200
        var body = ""
        var headers: [(String, String)] = []
        var delayMS = 0
    }

    struct TokenRequest: Sendable {
        let form: [String: String]
        let authorization: String?
        let at: ContinuousClock.Instant
        var contentType: String? = nil
    }

    /// A token endpoint's own check of a request: nil to issue a token, else why it refuses (400 invalid_grant).
    typealias GrantCheck = @Sendable (TokenRequest) async -> String?

    struct UpstreamRequest: Sendable {
        let method: String
        let path: String
        let query: String?
        let headers: [(String, String)]
        let receivedAt = Date().timeIntervalSince1970
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    private struct State {
        var script: [Reply] = []
        var defaultExpiresIn: String? = "3600"
        var issued = 0
        var tokenRequests: [TokenRequest] = []
        var upstreamRequests: [UpstreamRequest] = []
        var revoked: String?
        /// Definitions as JSON, the way Orthanc keeps them: in memory only.
        var definitions: [String: Data] = [:]
        var orthancScript: [Int] = []
        var orthancPuts: [String] = []
        /// How often a definition list was read: the pusher's checks.
        var orthancChecks = 0
        var grantCheck: GrantCheck?
        var refusals: [String] = []
    }

    let port: Int
    private let state = Mutex(State())
    private let server: Mutex<TestHTTPServer?> = Mutex(nil)

    var base: String { "http://127.0.0.1:\(port)" }
    var tokenURL: String { base + "/oauth/token" }
    var upstreamURL: String { base + "/upstream/" }

    private init(port: Int) { self.port = port }

    static func start() async throws -> PeerServer {
        let peer = PeerServer(port: try await freePort())
        let router = Router()
        router.post("oauth/token") { request, _ in await peer.token(request) }
        for method: HTTPRequest.Method in [.get, .head, .post, .put, .delete] {
            router.on("upstream/**", method: method) { request, _ in try await peer.upstream(request) }
        }
        for root in ["dicom-web", "dicomweb-root"] {
            router.put("\(root)/servers/:name") { request, context in
                await peer.orthancPut(request, name: context.parameters.get("name") ?? "")
            }
            router.get("\(root)/servers") { _, _ in peer.orthancList() }
            router.delete("\(root)/servers/:name") { _, context in
                let name = context.parameters.get("name") ?? ""
                let existed = peer.state.withLock { $0.definitions.removeValue(forKey: name) != nil }
                return Response(status: existed ? .ok : .notFound)
            }
        }
        let server = try await TestHTTPServer.start(router: router, port: peer.port)
        peer.server.withLock { $0 = server }
        return peer
    }

    func stop() async {
        await server.withLock { $0 }?.stop()
    }

    // MARK: Token endpoint

    /// The next answers of the token endpoint, in order; after them, valid tokens.
    func script(_ replies: Reply...) { state.withLock { $0.script += replies } }
    /// `expires_in` of default answers, as raw JSON (nil: left out).
    func setDefaultExpiresIn(_ raw: String?) { state.withLock { $0.defaultExpiresIn = raw } }
    var tokenRequests: [TokenRequest] { state.withLock { $0.tokenRequests } }
    var upstreamRequests: [UpstreamRequest] { state.withLock { $0.upstreamRequests } }

    /// From now on every token request must pass `check`, as a real endpoint verifies a grant.
    func checkGrants(_ check: @escaping GrantCheck) { state.withLock { $0.grantCheck = check } }
    var refusals: [String] { state.withLock { $0.refusals } }

    private func token(_ request: Request) async -> Response {
        let body = (try? await request.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
        let received = TokenRequest(
            form: FormEncoding.parse(body) ?? [:], authorization: request.headers[.authorization], at: .now,
            contentType: request.headers[.contentType])
        if let check = state.withLock({ $0.grantCheck }), let refusal = await check(received) {
            state.withLock {
                $0.tokenRequests.append(received); $0.refusals.append(refusal)
            }
            return Response(
                status: .badRequest, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid_grant"}"#)))
        }
        let (reply, issuedToken) = state.withLock { state -> (Reply?, String) in
            state.tokenRequests.append(received)
            state.issued += 1
            let expires = state.defaultExpiresIn.map { #","expires_in":\#($0)"# } ?? ""
            let token = #"{"access_token":"peer-token-\#(state.issued)-\#(UUID().uuidString)","token_type":"Bearer"\#(expires)}"#
            return (state.script.isEmpty ? nil : state.script.removeFirst(), token)
        }
        guard let reply else {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: issuedToken)))
        }
        if reply.delayMS > 0 { try? await Task.sleep(for: .milliseconds(reply.delayMS)) }
        var headers = HTTPFields()
        for (name, value) in reply.headers { headers.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }

    // MARK: A fake Orthanc REST API (DICOMweb server definitions, kept like Orthanc: in memory)

    /// Statuses the next PUTs answer with, in order; after them, 200.
    func scriptOrthanc(_ statuses: Int...) { state.withLock { $0.orthancScript += statuses } }
    /// What an Orthanc restart does: run-time definitions are gone.
    func restartOrthanc() { state.withLock { $0.definitions = [:] } }
    /// Names of the definitions PUT so far, in order.
    var orthancPuts: [String] { state.withLock { $0.orthancPuts } }
    var orthancChecks: Int { state.withLock { $0.orthancChecks } }
    func orthancDefinition(_ name: String) -> [String: Any]? {
        state.withLock { $0.definitions[name] }.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    /// As Orthanc's `WebServiceParameters`: user properties must be strings, booleans or integers
    /// (400 otherwise), and `Url` is stored with a trailing '/'.
    private func orthancPut(_ request: Request, name: String) async -> Response {
        var data = (try? await request.body.collect(upTo: 1 << 16)).map { Data(buffer: $0) } ?? Data()
        let reserved: Set<String> = ["Url", "HttpHeaders", "Timeout", "Pkcs11", "Username", "Password"]
        if var definition = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            for (key, value) in definition where !reserved.contains(key) {
                guard value is String || value is Bool || (value as? NSNumber).map({ Double(Int(truncating: $0)) == $0.doubleValue }) == true else {
                    return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"Message":"Bad file format"}"#)))
                }
            }
            if let url = definition["Url"] as? String, !url.hasSuffix("/") { definition["Url"] = url + "/" }
            data = (try? JSONSerialization.data(withJSONObject: definition)) ?? data
        }
        let status = state.withLock { state -> Int in
            state.orthancPuts.append(name)
            let status = state.orthancScript.isEmpty ? 200 : state.orthancScript.removeFirst()
            if status == 200 { state.definitions[name] = data }
            return status
        }
        return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: status == 200 ? "{}" : "")))
    }

    private func orthancList() -> Response {
        let stored = state.withLock { state in
            state.orthancChecks += 1
            return state.definitions
        }
        let listed = stored.compactMapValues { data -> [String: Any]? in
            guard var shown = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
            shown["HttpHeaders"] = Array((shown["HttpHeaders"] as? [String: Any] ?? [:]).keys)
            for (key, value) in shown where !["Url", "HttpHeaders"].contains(key) { shown[key] = "\(value)" }
            return shown
        }
        let data = (try? JSONSerialization.data(withJSONObject: listed)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Upstream

    private func upstream(_ request: Request) async throws -> Response {
        let path = request.uri.path
        state.withLock {
            $0.upstreamRequests.append(
                UpstreamRequest(
                    method: request.method.rawValue, path: path, query: request.uri.query,
                    headers: request.headers.map { ($0.name.rawName, $0.value) }))
        }
        let bearer = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
        // Special routes are matched on the last segments, whatever base path a test proxies to.
        switch path {
        case let p where p.hasSuffix("/upload"):
            var bytes = 0
            for try await chunk in request.body { bytes += chunk.readableBytes }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"bytes":\#(bytes)}"#)))
        case let p where p.contains("/download/"):
            let total = Int(p.split(separator: "/").last ?? "") ?? 0
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(contentLength: total) { writer in
                    let chunk = ByteBuffer(repeating: 0x42, count: 1 << 16)
                    var left = total
                    while left > 0 {
                        try await writer.write(left >= chunk.readableBytes ? chunk : chunk.getSlice(at: 0, length: left)!)
                        left -= min(left, chunk.readableBytes)
                    }
                    try await writer.finish(nil)
                })
        case let p where p.hasSuffix("/close-mid"):
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(contentLength: 4 << 20) { writer in
                    try await writer.write(ByteBuffer(repeating: 0x43, count: 1 << 20))
                    throw CancellationError()
                })
        case let p where p.contains("/status/"):
            let code = Int(p.split(separator: "/").last ?? "") ?? 500
            return Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: "status \(code)")))
        case let p where p.hasSuffix("/slow"):
            try await Task.sleep(for: .seconds(2))
            return Response(status: .ok)
        case let p where p.hasSuffix("/revoking"):
            // Refuses the first token it ever sees, as if it had been revoked.
            let refused = state.withLock { state -> Bool in
                if state.revoked == nil { state.revoked = bearer }
                return state.revoked == bearer
            }
            return Response(status: refused ? .unauthorized : .ok, body: .init(byteBuffer: ByteBuffer(string: refused ? "revoked" : "fine")))
        default:
            var echoed: [String: String] = [:]
            for field in request.headers { echoed[field.name.canonicalName] = field.value }
            let json = try JSONSerialization.data(
                withJSONObject: [
                    "method": request.method.rawValue, "path": path, "query": request.uri.query ?? NSNull(), "headers": echoed,
                ] as [String: Any])
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/json", HTTPField.Name("X-Upstream")!: "yes", HTTPField.Name("Keep-Alive")!: "timeout=5",
                    .setCookie: "session=upstream", .cacheControl: "private",
                ], body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
    }
}

extension PeerServer.Reply {
    static func status(_ status: Int, _ body: String = "", headers: [(String, String)] = [], delayMS: Int = 0) -> Self {
        .init(status: status, body: body, headers: headers, delayMS: delayMS)
    }
}

/// An outbound server entry for the peer's token endpoint and upstream.
func peerServer(_ peer: PeerServer, _ adjust: (inout OutboundServerConfig) -> Void = { _ in }) -> OutboundServerConfig {
    var server = OutboundServerConfig(
        url: peer.upstreamURL, tokenEndpoint: peer.tokenURL, clientID: "orthanc-out",
        clientSecret: "peer-client-secret-XYZ", scope: "dicom.read")
    server.retry.baseDelayMS = 20
    server.retry.maxDelayMS = 2000
    adjust(&server)
    return server
}

let testAPIKey = "test-admin-api-key-0123456789"
let apiKeyHeader = [("X-API-Key", testAPIKey)]

/// The claims of a JWT, unverified (tests read what the dev issuer put in).
func jwtClaims(_ token: String) -> [String: Any] {
    let parts = token.split(separator: ".")
    guard parts.count == 3 else { return [:] }
    var text = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while text.count % 4 != 0 { text += "=" }
    guard let data = Data(base64Encoded: text) else { return [:] }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}
