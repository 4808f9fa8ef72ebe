import Crypto
import CryptoExtras
import Foundation
import Hummingbird
import JWTKit
import NIOCore
import Synchronization
import TollgateKit
@testable import TollgateOutbound

/// An authorization server written for the registry's tests, strict where real ones are:
/// codes are single-use and bound to their redirect URI and PKCE S256 challenge, and refresh
/// tokens are one-time (each use rotates it, a reused one is `invalid_grant`), like Glewlwyd
/// with `refresh-token-one-use`. It knows three clients: a confidential one (Basic secret), a
/// public one (PKCE only) and one that signs `private_key_jwt` assertions; it issues OIDC ID
/// tokens (signed, with the request's nonce) when `openid` is asked for, publishes discovery and
/// a JWKS under its issuer, and revokes tokens (RFC 7009), remembering what it was sent.
final class CodeFlowIdP: Sendable {
    static let clientID = "registry-client"
    static let clientSecret = "registry-client-secret-9f2c"
    static let publicClientID = "registry-public"
    static let keyClientID = "registry-pkjwt"

    struct Code: Sendable {
        let redirectURI: String
        let challenge: String
        let scope: String
        let nonce: String?
        let clientID: String
    }

    /// How the next ID token is spoiled, to see Tollgate refuse it.
    enum IDTokenFault: Sendable {
        case none, missing, wrongNonce, wrongAudience, unsigned, foreignKey, expired, wrongIssuer
    }

    struct Revocation: Sendable, Equatable {
        let token: String
        let hint: String?
        let clientID: String
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
        var idTokenFault = IDTokenFault.none
        /// Claims the next ID tokens carry on top of the standard ones (a person's roles, a name).
        var idTokenRoles: [String]? = nil
        var idTokenName: String? = nil
        var revocations: [Revocation] = []
        var revocationStatus = 200
    }

    let port: Int
    private let state = Mutex(State())
    /// Signs ID tokens; its public half is the JWKS.
    let forge = TokenForge()
    /// The `private_key_jwt` client's key.
    let clientKey = P256.Signing.PrivateKey()
    private let server: Mutex<TestHTTPServer?> = Mutex(nil)

    var base: String { "http://127.0.0.1:\(port)" }
    var issuer: String { base + "/realm" }
    var tokenURL: String { base + "/token" }
    var authorizationURL: String { base + "/authorize?prompt=consent" }
    var revocationURL: String { base + "/revoke" }

    private init(port: Int) { self.port = port }

    static func start() async throws -> CodeFlowIdP {
        let idp = CodeFlowIdP(port: try await freePort())
        let router = Router()
        router.post("token") { request, _ in await idp.token(request) }
        router.post("revoke") { request, _ in await idp.revoke(request) }
        router.get("realm/.well-known/openid-configuration") { _, _ in
            Self.json(
                200,
                #"{"issuer":"\#(idp.issuer)","authorization_endpoint":"\#(idp.base)/authorize","jwks_uri":"\#(idp.base)/realm/jwks","token_endpoint":"\#(idp.tokenURL)","revocation_endpoint":"\#(idp.revocationURL)"}"#
            )
        }
        router.get("realm/jwks") { _, _ in Self.json(200, #"{"keys":[\#(idp.forge.rsaJWK)]}"#) }
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
        guard query["response_type"] == "code", let client = query["client_id"], [Self.clientID, Self.publicClientID, Self.keyClientID].contains(client),
            query["code_challenge_method"] == "S256", let challenge = query["code_challenge"], let redirect = query["redirect_uri"],
            let state = query["state"]
        else {
            throw TestFailure("not an authorization request this IdP accepts: \(query.keys.sorted())")
        }
        let scope = query["scope"] ?? ""
        // Glewlwyd's rule: an OpenID request without a nonce is refused.
        guard !scope.split(separator: " ").contains("openid") || query["nonce"] != nil else { throw TestFailure("nonce required") }
        let code = "code-" + UUID().uuidString
        self.state.withLock {
            $0.codes[code] = Code(redirectURI: redirect, challenge: challenge, scope: scope, nonce: query["nonce"], clientID: client)
        }
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
    func setIDTokenFault(_ fault: IDTokenFault) { state.withLock { $0.idTokenFault = fault } }
    func setIDTokenClaims(roles: [String]?, name: String?) {
        state.withLock {
            $0.idTokenRoles = roles
            $0.idTokenName = name
        }
    }
    func setRevocationStatus(_ status: Int) { state.withLock { $0.revocationStatus = status } }
    var revocations: [Revocation] { state.withLock { $0.revocations } }
    func grants(_ type: String) -> Int { state.withLock { $0.grants[type, default: 0] } }
    var invalidGrants: Int { state.withLock { $0.invalidGrants } }
    var liveRefreshTokens: Set<String> { state.withLock { $0.liveRefreshTokens } }

    // MARK: Token endpoint

    /// The client a request authenticates as, or nil: a Basic secret, a public client's bare
    /// `client_id`, or a `private_key_jwt` assertion signed by `clientKey` for `audience`.
    private func client(_ request: Request, _ form: [String: String], audience: String) async -> String? {
        let basic = "Basic " + Data("\(Self.clientID):\(Self.clientSecret)".utf8).base64EncodedString()
        if request.headers[.authorization] == basic, form["client_id"] == nil { return Self.clientID }
        guard request.headers[.authorization] == nil, form["client_secret"] == nil else { return nil }
        if form["client_id"] == Self.publicClientID, form["client_assertion"] == nil { return Self.publicClientID }
        guard form["client_id"] == Self.keyClientID, form["client_assertion_type"] == PrivateKeyJWTAuthentication.assertionType,
            let assertion = form["client_assertion"], let key = try? ES256PublicKey(pem: clientKey.publicKey.pemRepresentation)
        else { return nil }
        let keys = await JWTKeyCollection().add(ecdsa: key)
        guard let claims = try? await keys.verify(assertion, as: ClientAssertion.self), claims.iss.value == Self.keyClientID,
            claims.sub.value == Self.keyClientID, claims.aud.value == [audience]
        else { return nil }
        return Self.keyClientID
    }

    private func revoke(_ request: Request) async -> Response {
        let body = (try? await request.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
        let form = FormEncoding.parse(body) ?? [:]
        guard let client = await client(request, form, audience: revocationURL), let token = form["token"] else { return Self.error(401, "invalid_client") }
        return state.withLock { state in
            state.revocations.append(Revocation(token: token, hint: form["token_type_hint"], clientID: client))
            guard state.revocationStatus == 200 else { return Self.error(state.revocationStatus, "temporarily_unavailable") }
            state.liveRefreshTokens.remove(token)
            return Response(status: .ok)
        }
    }

    /// The ID token of a code exchange with `openid`, spoiled as `fault` says.
    private func idToken(for code: Code, fault: IDTokenFault, roles: [String]?, name: String?) -> String? {
        guard code.scope.split(separator: " ").contains("openid"), fault != .missing else { return nil }
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = [
            "iss": issuer, "sub": "dr-house", "aud": code.clientID, "iat": now, "exp": now + 300,
            "nonce": code.nonce ?? "", "auth_time": now,
        ]
        if let roles { claims["realm_access"] = ["roles": roles] }
        if let name { claims["name"] = name }
        var header: [String: Any] = ["alg": "RS256", "kid": forge.rsaKid, "typ": "JWT"]
        var signer = TokenForge.Signer.rsa
        switch fault {
        case .none, .missing: break
        case .wrongNonce: claims["nonce"] = "not-the-nonce"
        case .wrongAudience: claims["aud"] = "someone-else"
        case .unsigned: header["alg"] = "none"; signer = .none
        case .foreignKey: signer = .otherRSA(try! _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .expired: claims["exp"] = now - 3600; claims["iat"] = now - 7200
        case .wrongIssuer: claims["iss"] = base + "/elsewhere"
        }
        return forge.token(header: header, claims: claims, signer: signer)
    }

    private func token(_ request: Request) async -> Response {
        let body = (try? await request.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
        let form = FormEncoding.parse(body) ?? [:]
        guard let client = await client(request, form, audience: tokenURL) else { return Self.error(401, "invalid_client") }
        if form["grant_type"] == "refresh_token" {
            let delay = state.withLock { $0.refreshDelayMS }
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        }
        return state.withLock { state -> Response in
            state.grants[form["grant_type"] ?? "?", default: 0] += 1
            var rotateTo: String?
            var idToken: String?
            switch form["grant_type"] {
            case "authorization_code":
                guard let code = form["code"], let issued = state.codes.removeValue(forKey: code), issued.clientID == client,
                    form["redirect_uri"] == issued.redirectURI, let verifier = form["code_verifier"],
                    Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8)))) == issued.challenge
                else {
                    state.invalidGrants += 1
                    return Self.error(400, "invalid_grant")
                }
                rotateTo = "rt-" + UUID().uuidString
                idToken = self.idToken(for: issued, fault: state.idTokenFault, roles: state.idTokenRoles, name: state.idTokenName)
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
            let refresh = (rotateTo.map { #","refresh_token":"\#($0)""# } ?? "") + (idToken.map { #","id_token":"\#($0)""# } ?? "")
            let answer =
                #"{"access_token":"code-flow-at-\#(state.issued)-\#(UUID().uuidString)","token_type":"Bearer","expires_in":\#(state.expiresIn),"scope":"dicom.read"\#(refresh)}"#
            return Self.json(200, answer)
        }
    }

    private static func json(_ status: Int, _ body: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func error(_ status: Int, _ code: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"\#(code)","error_description":"refused by the test IdP"}"#)))
    }
}
