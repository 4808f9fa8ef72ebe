import Crypto
import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TollgateKit

/// An authorization server written for the registry's tests, strict where real ones are:
/// codes are single-use and bound to their redirect URI and PKCE S256 challenge, and refresh
/// tokens are one-time (each use rotates it, a reused one is `invalid_grant`), like Glewlwyd
/// with `refresh-token-one-use`.
final class CodeFlowIdP: Sendable {
    static let clientID = "registry-client"
    static let clientSecret = "registry-client-secret-9f2c"

    struct Code: Sendable {
        let redirectURI: String
        let challenge: String
        let scope: String
    }

    private struct State {
        var codes: [String: Code] = [:]
        var liveRefreshTokens: Set<String> = []
        var issued = 0
        var grants: [String: Int] = [:]
        var invalidGrants = 0
        var rotate = true
        var expiresIn = 3600
        var refreshDelayMS = 0
        /// Glewlwyd 2.7.5 answers a used refresh token with a bare 400: no body, no error code.
        var bareRefusals = false
    }

    let port: Int
    private let state = Mutex(State())
    private let server: Mutex<TestHTTPServer?> = Mutex(nil)

    var base: String { "http://127.0.0.1:\(port)" }
    var issuer: String { base + "/realm" }
    var tokenURL: String { base + "/token" }
    var authorizationURL: String { base + "/authorize?prompt=consent" }

    private init(port: Int) { self.port = port }

    static func start() async throws -> CodeFlowIdP {
        let idp = CodeFlowIdP(port: try await freePort())
        let router = Router()
        router.post("token") { request, _ in await idp.token(request) }
        let server = try await TestHTTPServer.start(router: router, port: idp.port)
        idp.server.withLock { $0 = server }
        return idp
    }

    func stop() async { await server.withLock { $0 }?.stop() }

    // MARK: What the browser and the user would do

    /// The user logs in and consents: the IdP records the request and answers with a code.
    /// Returns the query Tollgate's callback would receive (code and state).
    func approve(_ authorizationURL: String) throws -> [String: String] {
        let items = URLComponents(string: authorizationURL)?.queryItems ?? []
        let query = items.reduce(into: [String: String]()) { $0[$1.name] = $1.value }
        guard query["response_type"] == "code", query["client_id"] == Self.clientID, query["code_challenge_method"] == "S256",
              let challenge = query["code_challenge"], let redirect = query["redirect_uri"], let state = query["state"] else {
            throw TestFailure("not an authorization request this IdP accepts: \(query.keys.sorted())")
        }
        let code = "code-" + UUID().uuidString
        self.state.withLock { $0.codes[code] = Code(redirectURI: redirect, challenge: challenge, scope: query["scope"] ?? "") }
        return ["code": code, "state": state]
    }

    /// A refresh token as if issued earlier to another client of the same user (to import).
    func mintRefreshToken() -> String {
        state.withLock { state in
            let token = "rt-" + UUID().uuidString
            state.liveRefreshTokens.insert(token)
            return token
        }
    }

    /// The user withdraws consent: every refresh token dies.
    func revokeConsent() { state.withLock { $0.liveRefreshTokens.removeAll() } }
    func setRotation(_ rotate: Bool) { state.withLock { $0.rotate = rotate } }
    func setExpiresIn(_ seconds: Int) { state.withLock { $0.expiresIn = seconds } }
    func setRefreshDelay(milliseconds: Int) { state.withLock { $0.refreshDelayMS = milliseconds } }
    func setBareRefusals(_ bare: Bool) { state.withLock { $0.bareRefusals = bare } }
    func grants(_ type: String) -> Int { state.withLock { $0.grants[type, default: 0] } }
    var invalidGrants: Int { state.withLock { $0.invalidGrants } }
    var liveRefreshTokens: Set<String> { state.withLock { $0.liveRefreshTokens } }

    // MARK: Token endpoint

    private func token(_ request: Request) async -> Response {
        let body = (try? await request.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
        let form = FormEncoding.parse(body) ?? [:]
        let basic = "Basic " + Data("\(Self.clientID):\(Self.clientSecret)".utf8).base64EncodedString()
        guard request.headers[.authorization] == basic else { return Self.error(401, "invalid_client") }
        if form["grant_type"] == "refresh_token" {
            let delay = state.withLock { $0.refreshDelayMS }
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        }
        return state.withLock { state -> Response in
            state.grants[form["grant_type"] ?? "?", default: 0] += 1
            var rotateTo: String?
            switch form["grant_type"] {
            case "authorization_code":
                guard let code = form["code"], let issued = state.codes.removeValue(forKey: code),
                      form["redirect_uri"] == issued.redirectURI, let verifier = form["code_verifier"],
                      Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8)))) == issued.challenge else {
                    state.invalidGrants += 1
                    return Self.error(400, "invalid_grant")
                }
                rotateTo = "rt-" + UUID().uuidString
            case "refresh_token":
                guard let presented = form["refresh_token"], state.liveRefreshTokens.contains(presented) else {
                    state.invalidGrants += 1
                    return state.bareRefusals ? Response(status: .badRequest) : Self.error(400, "invalid_grant")
                }
                if state.rotate {
                    state.liveRefreshTokens.remove(presented)
                    rotateTo = "rt-" + UUID().uuidString
                }
            default:
                return Self.error(400, "unsupported_grant_type")
            }
            if let rotateTo { state.liveRefreshTokens.insert(rotateTo) }
            state.issued += 1
            let refresh = rotateTo.map { #","refresh_token":"\#($0)""# } ?? ""
            let answer = #"{"access_token":"code-flow-at-\#(state.issued)-\#(UUID().uuidString)","token_type":"Bearer","expires_in":\#(state.expiresIn),"scope":"dicom.read"\#(refresh)}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
    }

    private static func error(_ status: Int, _ code: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: #"{"error":"\#(code)","error_description":"refused by the test IdP"}"#)))
    }
}
