import Crypto
import Foundation
import NIOCore
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// An authorization request ready for the user's browser.
package struct AuthorizationStart: Sendable {
    package let authorizationURL: String
    package let redirectURI: String
    package let expiresAt: Double
    /// Also in `authorizationURL`; seed 002's answer names it.
    package let state: String
}

/// The authorization-code flow (RFC 6749 §4.1) with PKCE S256 always (RFC 7636), single-use
/// state stored only as its SHA-256, RFC 9207's `iss` checked when the IdP sends it, and with
/// `openid` a nonce its ID token must carry (OIDC Core §3.1.3.7); and refresh tokens obtained
/// elsewhere, imported.
package struct AuthorizationFlow: RegistryPart {
    let context: RegistryContext
    let tokens: ConnectionTokens

    /// Starts an authorization for the organisation's own connection (never GLOBAL's on its behalf).
    package func authorize(organization: String, name: String) async throws -> AuthorizationStart {
        let record = try await own(organization: organization, name: name)
        guard record.flow == .authorizationCode else {
            throw RegistryError(.unsupportedFlow, "\(name) is a \(record.flow.rawValue) connection; only authorization_code connections authorize")
        }
        let settings = record.settings
        guard let endpoint = settings.authorizationURL, let redirectURI = redirectURI(settings, name: name) else {
            throw RegistryError(.invalidRequest, "\(name) needs authorization_url and a redirect URI")
        }
        guard !settings.requestsOpenID || settings.issuer != nil else {
            throw RegistryError(.invalidRequest, "\(name) asks for openid without an issuer to check its ID token against: set issuer with PUT")
        }
        let state = Self.randomToken()
        let verifier = Self.randomToken()
        let nonce = settings.requestsOpenID ? Self.randomToken() : nil
        let stateHash = Self.stateHash(state)
        let now = clock.now()
        let expiresAt = now + Double(config.authorizationTTLSeconds)
        let pending = PendingAuthorization(
            stateHash: stateHash, connectionID: record.id,
            sealed: try seal(ConnectionSecrets(codeVerifier: verifier, nonce: nonce), PendingAuthorization.sealingID(stateHash: stateHash)),
            redirectURI: redirectURI, expiresAt: expiresAt, createdAt: now)
        try await stored { try await self.store.insertAuthorization(pending, now: now) }
        if record.status != .completed {
            // Best effort: the state is stored, and the callback works whatever the status says.
            _ = try? await mutate(record) { row in
                row.status = .waitingCallback
                row.statusMessage = nil
            }
        }
        var query: [(String, String)] = [("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", redirectURI)]
        if !settings.scopes.isEmpty { query.append(("scope", settings.scopes)) }
        if let resource = settings.resource { query.append(("resource", resource)) }
        query += [("state", state), ("code_challenge", Self.challenge(verifier)), ("code_challenge_method", "S256")]
        if let nonce { query.append(("nonce", nonce)) }
        let separator = endpoint.contains("?") ? "&" : "?"
        // %20 rather than form encoding's '+' for spaces: every query parser reads it the same.
        let encoded = FormEncoding.encode(query).replacingOccurrences(of: "+", with: "%20")
        return AuthorizationStart(authorizationURL: endpoint + separator + encoded, redirectURI: redirectURI, expiresAt: expiresAt, state: state)
    }

    /// The IdP's redirect back (`GET` or, with `response_mode=form_post`, `POST
    /// /oauth/callback/{name}`): the state is consumed first, so a replay or a tampered state fails
    /// whatever else the request says. The connection is `testing` while the code is exchanged.
    package func callback(name: String, parameters: [String: String]) async throws -> ConnectionView {
        guard let state = parameters["state"], (1...512).contains(state.utf8.count) else {
            throw RegistryError(.invalidState, "state is missing")
        }
        guard let pending = try await stored({ try await self.store.takeAuthorization(stateHash: Self.stateHash(state)) }),
            pending.expiresAt > clock.now()
        else {
            throw RegistryError(.invalidState, "the state is unknown, already used or expired: start again with /authorize")
        }
        guard let record = try await stored({ try await self.store.find(id: pending.connectionID) }), record.name == name else {
            throw RegistryError(.invalidState, "the state was issued for another connection")
        }
        let settings = record.settings
        if let iss = parameters["iss"] {
            guard let issuer = settings.issuer, iss == issuer else {
                let expected = settings.issuer == nil ? "the connection names no issuer" : "expected the connection's issuer"
                try await callbackFailed(record, message: "ISSUER_MISMATCH: the callback's iss is not the connection's issuer")
                throw RegistryError(.issuerMismatch, "the callback's iss does not match (\(expected)); the response is refused (RFC 9207)")
            }
        }
        let secrets = try open(record)
        if let error = parameters["error"] {
            let said = Self.idpWords(error: error, description: parameters["error_description"], secrets: secrets)
            try await callbackFailed(record, message: "AUTHORIZATION_DENIED: \(said)")
            throw RegistryError(.authorizationDenied, "the IdP answered the authorization request with \(said)")
        }
        guard let code = parameters["code"], (1...4096).contains(code.utf8.count), code.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RegistryError(.invalidRequest, "code is missing or malformed")
        }
        let sealed: ConnectionSecrets
        do {
            sealed = try keyring.open(pending.sealed, rowID: PendingAuthorization.sealingID(stateHash: pending.stateHash))
            guard sealed.codeVerifier != nil else { throw RegistryKeyring.Failure.unreadable }
        } catch {
            throw RegistryError(.invalidState, "the state's verifier does not open")
        }
        let testing =
            (try? await mutate(record) { row in
                row.status = .testing
                row.statusMessage = nil
            })?.written ?? record
        let grant = TokenGrant.authorizationCode(code: code, redirectURI: pending.redirectURI, codeVerifier: sealed.codeVerifier ?? "")
        let token: AccessToken
        switch await tokens.tokenRequest(testing, secrets, grant) {
        case .success(let answer):
            token = answer
        case .failure(let error):
            let message = PrintableText.clean(error.description, limit: 256)
            try await callbackFailed(testing, before: record, message: "code exchange refused: \(message)")
            throw error.isRetryable
                ? RegistryError(.tokenUnavailable, "the token endpoint did not answer the code exchange: \(message)")
                : RegistryError(.authorizationDenied, "the token endpoint refused the code: \(message)")
        }
        if let nonce = sealed.nonce {
            if let refusal = await idTokenRefusal(token, settings: settings, nonce: nonce) {
                try await callbackFailed(testing, before: record, message: "ID_TOKEN_INVALID: \(refusal)")
                await tokens.revoke(token, settings: settings, secrets: secrets, reason: "its ID token was refused")
                throw RegistryError(.idTokenInvalid, "the ID token of the code exchange was refused (\(refusal)); nothing was kept")
            }
        }
        _ = try await tokens.keep(token, for: testing, using: secrets)
        if let replaced = secrets.refreshToken, replaced != token.refreshToken {
            await tokens.revoke(refreshToken: replaced, settings: settings, secrets: secrets, reason: "a new authorization replaced it")
        }
        return view(try await stored({ try await self.store.find(id: record.id) }) ?? record)
    }

    /// Why the code exchange's ID token is not acceptable, or nil when it is. The issuer's keys
    /// come from the `jwks_uri` of the issuer's own discovery document.
    private func idTokenRefusal(_ token: AccessToken, settings: ConnectionSettings, nonce: String) async -> String? {
        guard let idToken = token.idToken else { return "the token endpoint returned no id_token" }
        guard let issuer = settings.issuer else { return "the connection names no issuer" }
        let timeout = TimeAmount.configured(milliseconds: timeoutMS)
        let document: DiscoveryDocument
        switch await Discovery.fetch(issuer: issuer, client: http, timeout: timeout) {
        case .success(let found): document = found
        case .failure(let error): return "the issuer's discovery: \(error)"
        }
        guard let jwksURI = document.jwksURI else { return "the issuer's discovery names no jwks_uri" }
        switch await IDTokenCheck.verify(
            idToken, issuer: issuer, clientID: settings.clientID, nonce: nonce, jwksURI: jwksURI, http: http,
            clock: clock, timeout: timeout)
        {
        case .success: return nil
        case .failure(let refusal): return refusal.description
        }
    }

    /// The IdP's `error` and `error_description` as a caller may read them: control characters
    /// removed, the connection's credentials scrubbed, bounded.
    static func idpWords(error: String, description: String?, secrets: ConnectionSecrets) -> String {
        let scrubber = SecretScrubber(secrets: [secrets.clientSecret, secrets.privateKey, secrets.refreshToken, secrets.accessToken].compactMap { $0 })
        var words = PrintableText.clean(scrubber.scrub(error), limit: 64)
        if let description, !description.isEmpty { words += ": " + PrintableText.clean(scrubber.scrub(description), limit: 256) }
        return words
    }

    /// A failed callback fails a connection that was waiting for it; one that was already
    /// connected (`before`) keeps working on its refresh token and goes back to completed.
    private func callbackFailed(_ record: ConnectionRecord, before: ConnectionRecord? = nil, message: String) async throws {
        if (before ?? record).status == .completed {
            if record.status != .completed {
                _ = try? await mutate(record) { row in
                    row.status = .completed
                    row.statusMessage = message
                }
            }
            return
        }
        try await tokens.markFailed(record, message: message, dropRefreshToken: false)
    }

    /// Imports a refresh token obtained elsewhere into the organisation's own connection and
    /// exchanges it at once, so a bad one is refused now rather than at first use.
    package func importRefreshToken(organization: String, name: String, refreshToken given: String) async throws -> ConnectionView {
        let refreshToken = try ConnectionRules.checkedRefreshToken(given)
        let record = try await own(organization: organization, name: name)
        guard record.flow != .clientCredentials else {
            throw RegistryError(.unsupportedFlow, "\(name) is a client_credentials connection; it has no refresh token")
        }
        let imported = try await mutate(record) { row in
            try self.replaceTokens(in: &row, refreshToken: refreshToken)
            row.status = .notConnected
            row.statusMessage = nil
        }
        guard let imported = imported.written else { throw RegistryError(.generationMismatch, "the connection changed meanwhile; try again") }
        _ = try await tokens.renew(imported, minTTL: nil)
        return view(try await stored({ try await self.store.find(id: record.id) }) ?? record)
    }

    /// 32 random bytes, base64url: 43 characters, the verifier length RFC 7636 §4.1 recommends.
    static func randomToken() -> String {
        Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    static func challenge(_ verifier: String) -> String {
        Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func stateHash(_ state: String) -> String {
        SecretDigest.sha256Hex(state)
    }
}
