import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// `console.auth: oidc`: the authorization-code flow with PKCE S256 and a nonce against the
/// hospital's IdP (endpoints from its discovery document). The code is exchanged by the console's
/// own client, the ID token checked as OIDC Core §3.1.3.7 asks (Inbound's `IDTokenCheck`), and
/// `console.required` decides (Inbound's `ConsoleAccess`). No token is kept after that.
final class ConsoleSignIn: Sendable {
    struct SignedIn: Sendable {
        let subject: String
        let displayName: String
        let grantedBy: String
        let returnTo: String
    }

    enum Failure: Error, Sendable {
        /// Signed in at the IdP, but not allowed in (403): what is required.
        case notAllowed(String)
        /// The sign-in did not complete (400 or 503): what to do.
        case failed(String, retryable: Bool)
    }

    private let config: ConsoleConfig
    private let access: ConsoleAccess
    private let sessions: ConsoleSessions
    private let http: HTTPClient
    private let clock: any TollgateClock
    private let discovered = Mutex<DiscoveryDocument?>(nil)

    init(config: ConsoleConfig, sessions: ConsoleSessions, http: HTTPClient, clock: any TollgateClock) {
        self.config = config
        self.access = ConsoleAccess(required: config.required)
        self.sessions = sessions
        self.http = http
        self.clock = clock
    }

    private var timeout: TimeAmount { .configured(milliseconds: config.oidc.timeoutMS) }

    /// The IdP's endpoints, fetched once and kept.
    private func discovery() async throws(Failure) -> DiscoveryDocument {
        if let known = discovered.withLock({ $0 }) { return known }
        switch await Discovery.fetch(issuer: config.oidc.issuer, client: http, timeout: timeout) {
        case .success(let document):
            discovered.withLock { $0 = document }
            return document
        case .failure(let error):
            throw .failed("The sign-in service cannot be reached (\(error.description)). Try again in a minute.", retryable: true)
        }
    }

    /// Where to send the browser: the IdP's authorization endpoint with a fresh state, PKCE
    /// challenge and nonce, bound to `browser` (the sign-in cookie's value). `returnTo` is a
    /// console path to land on afterwards.
    func start(returnTo: String, browser: String) async throws(Failure) -> String {
        let document = try await discovery()
        guard let endpoint = document.authorizationEndpoint, let redirectURI = config.callbackURL else {
            throw .failed("The sign-in service's discovery document names no authorization endpoint.", retryable: false)
        }
        let verifier = ConsoleSessions.randomToken()
        let nonce = ConsoleSessions.randomToken()
        let state: String
        do {
            state = try await sessions.remember((verifier, nonce, Self.consolePath(returnTo)), browser: browser)
        } catch {
            throw .failed("Sign-ins cannot be recorded right now (the session store is unavailable). Try again in a minute.", retryable: true)
        }
        let query: [(String, String)] = [
            ("response_type", "code"), ("client_id", config.oidc.clientID), ("redirect_uri", redirectURI),
            ("scope", config.oidc.scopes.joined(separator: " ")), ("state", state), ("nonce", nonce),
            ("code_challenge", Base64URL.sha256(verifier)), ("code_challenge_method", "S256"),
        ]
        let separator = endpoint.contains("?") ? "&" : "?"
        return endpoint + separator + FormEncoding.encode(query).replacingOccurrences(of: "+", with: "%20")
    }

    /// The IdP's redirect back: the state consumed first and matched to this browser's sign-in
    /// cookie (`browser`), then the code exchanged and the ID token checked.
    func finish(parameters: [String: String], browser: String?) async throws(Failure) -> SignedIn {
        let pending: PendingSignIn?
        do {
            pending = try await sessions.take(state: parameters["state"] ?? "")
        } catch {
            throw .failed("Sign-ins cannot be checked right now (the session store is unavailable). Try again in a minute.", retryable: true)
        }
        guard let pending else {
            throw .failed("This sign-in link is unknown, already used or expired. Start again from the console.", retryable: false)
        }
        // Login CSRF: a code and state someone else obtained, handed to this browser by a link.
        guard let browser, SecretDigest(pending.browserDigest).matches(SecretDigest.sha256Hex(browser)) else {
            throw .failed(
                "This sign-in was not started in this browser (its sign-in cookie is missing or another). Start again from the console.", retryable: false)
        }
        let document = try await discovery()
        if let iss = parameters["iss"], iss != config.oidc.issuer {
            throw .failed("The sign-in answer came from another issuer than the console's; it is refused (RFC 9207).", retryable: false)
        }
        if let error = parameters["error"] {
            let said = PrintableText.clean(error, limit: 64) + (parameters["error_description"].map { ": " + PrintableText.clean($0, limit: 200) } ?? "")
            throw .failed("The sign-in service refused the sign-in (\(said)).", retryable: false)
        }
        guard let code = parameters["code"], (1...4096).contains(code.utf8.count), code.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let tokenEndpoint = document.tokenEndpoint, let jwksURI = document.jwksURI, let redirectURI = config.callbackURL
        else {
            throw .failed("The sign-in answer has no usable code, or the sign-in service names no token endpoint or keys.", retryable: false)
        }
        let request = RuntimeTokenRequest(
            tokenEndpoint: tokenEndpoint, authentication: clientAuthentication,
            grant: .authorizationCode(code: code, redirectURI: redirectURI, codeVerifier: pending.codeVerifier), scope: nil, resource: nil,
            timeoutMS: config.oidc.timeoutMS, http: http)
        let clock = self.clock
        let token: AccessToken
        switch await request.fetch(now: { clock.now() }) {
        case .success(let answer): token = answer
        case .failure(let error):
            throw .failed(
                "The sign-in service did not accept the sign-in code (\(PrintableText.clean(error.description, limit: 200))). Start again.",
                retryable: error.isRetryable)
        }
        guard let idToken = token.idToken else { throw .failed("The sign-in service returned no ID token (is openid among the scopes?).", retryable: false) }
        let claims: TokenClaims
        switch await IDTokenCheck.verify(
            idToken, issuer: config.oidc.issuer, clientID: config.oidc.clientID, nonce: pending.nonce, jwksURI: jwksURI, http: http, clock: clock,
            timeout: timeout, claimPaths: ClaimPaths(access.claimPaths))
        {
        case .success(let checked): claims = checked
        case .failure(let refusal): throw .failed("The sign-in's ID token is refused: \(refusal.description).", retryable: false)
        }
        guard let subject = claims.subject, !subject.isEmpty else { throw .failed("The ID token names no subject.", retryable: false) }
        let granted = token.scope.map { $0.split(separator: " ").map(String.init) } ?? []
        switch access.verdict(claims: claims, grantedScopes: granted) {
        case .allowed(let by):
            let name = claims.name ?? claims.preferredUsername ?? subject
            return SignedIn(subject: subject, displayName: name, grantedBy: by, returnTo: pending.returnTo)
        case .refused(let why):
            throw .notAllowed(why)
        }
    }

    private var clientAuthentication: RuntimeClientAuthentication {
        let oidc = config.oidc
        switch oidc.authMethod {
        case .none: return .publicClient(clientID: oidc.clientID)
        case .clientSecretBasic, .clientSecretPost:
            return .secret(
                ClientCredentials(
                    clientID: oidc.clientID, secret: oidc.clientSecret ?? Secret(""),
                    method: oidc.authMethod == .clientSecretPost ? .clientSecretPost : .clientSecretBasic))
        }
    }

    /// A path under `/console` (no scheme, host or `//`), else the overview: never an open redirect.
    static func consolePath(_ candidate: String) -> String {
        guard candidate.hasPrefix("/console"), !candidate.hasPrefix("//"), !candidate.contains("\\"), candidate.utf8.count <= 512,
            candidate.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/console" }
        let rest = candidate.dropFirst("/console".count)
        guard rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?") else { return "/console" }
        return candidate
    }
}
