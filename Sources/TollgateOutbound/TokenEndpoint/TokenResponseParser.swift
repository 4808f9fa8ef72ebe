import Foundation
package import NIOCore
package import TollgateKit

/// Reads a token endpoint's answer (RFC 6749 §5.1 / §5.2), tolerating what real IdPs send:
/// `expires_in` as a string, no `expires_in`, `token_type` in any case, empty 403s.
package struct TokenResponseParser {
    let defaultExpiresIn: Int
    /// Removes the client's credentials from whatever the endpoint wrote back.
    let scrubber: SecretScrubber
    /// The request carried a DPoP proof: `token_type: DPoP` is the answer it asked for.
    var acceptsDPoP = false

    /// The longest lifetime believed: a year and a day. A larger `expires_in` (up to 1e308 has been
    /// seen from a fuzzed endpoint) is capped rather than converted to an integer that traps.
    static let maxLifetimeSeconds = 366.0 * 86400

    package init(defaultExpiresIn: Int, scrubber: SecretScrubber) {
        self.defaultExpiresIn = defaultExpiresIn
        self.scrubber = scrubber
    }

    package func parse(status: UInt, body: ByteBuffer, retryAfter: Double?, now: Double) -> Result<AccessToken, TokenFetchError> {
        switch status {
        case 200:
            return parseSuccess(body, now: now)
        case 429:
            return .failure(
                .init(.rateLimited, status: status, oauthError: errorCode(body), detail: "rate limited by the token endpoint", retryAfter: retryAfter))
        case 408, 500...599:
            return .failure(
                .init(.serverError, status: status, oauthError: errorCode(body), detail: errorDetail(body) ?? "token endpoint failed", retryAfter: retryAfter))
        default:
            let detail = errorDetail(body) ?? (body.readableBytes == 0 ? "rejected with an empty body (bad client credentials?)" : "rejected")
            return .failure(.init(.clientError, status: status, oauthError: errorCode(body), detail: detail))
        }
    }

    private func parseSuccess(_ body: ByteBuffer, now: Double) -> Result<AccessToken, TokenFetchError> {
        guard body.readableBytes > 0 else { return .failure(.init(.unparseable, status: 200, detail: "empty body")) }
        // Strict: a duplicated member (two access_tokens, two expires_in) is refused, never resolved.
        guard let object = try? StrictJSON.object(body.readableBytesView) else {
            return .failure(.init(.unparseable, status: 200, detail: "body is not a JSON object (or repeats a member)"))
        }
        guard let token = object["access_token"]?.string, !token.isEmpty else {
            return .failure(.init(.unparseable, status: 200, detail: "no access_token in the answer"))
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(.init(.unparseable, status: 200, detail: "access_token has characters a header cannot carry"))
        }
        var dpopBound = false
        if let type = object["token_type"]?.string, type.lowercased() != "bearer" {
            guard acceptsDPoP, type.lowercased() == "dpop" else {
                return .failure(.init(.clientError, status: 200, detail: "token_type \(PrintableText.clean(type, limit: 32)) is not Bearer"))
            }
            dpopBound = true
        }
        let lifetime: Double
        var assumed = false
        switch Self.seconds(object["expires_in"]) {
        case .some(let value) where value > 0:
            lifetime = min(value, Self.maxLifetimeSeconds)
        case .some:
            // 0 or negative: some IdPs send 0 for "does not expire"; treat as unknown.
            lifetime = Double(defaultExpiresIn)
            assumed = true
        case .none where object["expires_in"] == nil || object["expires_in"] == .null:
            lifetime = Double(defaultExpiresIn)
            assumed = true
        case .none:
            return .failure(.init(.unparseable, status: 200, detail: "expires_in is not a number"))
        }
        let scope = object["scope"]?.string.flatMap { $0.utf8.count <= 2048 && $0.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? $0 : nil }
        var refreshToken: String?
        if let refresh = object["refresh_token"], refresh != .null {
            guard let text = refresh.string, (1...8192).contains(text.utf8.count), text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                return .failure(.init(.unparseable, status: 200, detail: "refresh_token is not a printable string of at most 8 KB"))
            }
            refreshToken = text
        }
        // An ID token is a JWS: three base64url segments, bounded; anything else is not one.
        let idToken = object["id_token"]?.string.flatMap { text in
            (1...16384).contains(text.utf8.count) && text.utf8.allSatisfy({ Base64URL.isAlphabet($0) || $0 == UInt8(ascii: ".") }) ? text : nil
        }
        var accessToken = AccessToken(
            value: token, obtainedAt: now, expiresAt: now + lifetime, lifetimeAssumed: assumed, scope: scope,
            refreshToken: refreshToken, idToken: idToken)
        accessToken.isDPoPBound = dpopBound
        return .success(accessToken)
    }

    /// A number of seconds from a JSON number or a numeric string.
    static func seconds(_ value: JSONNode?) -> Double? {
        switch value {
        case .number(let number)?:
            return number.isFinite ? number : nil
        case .string(let text)?:
            return Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        default:
            return nil
        }
    }

    private func errorObject(_ body: ByteBuffer) -> JSONObject? {
        guard body.readableBytes > 0 else { return nil }
        return try? StrictJSON.object(body.readableBytesView)
    }

    /// The RFC 6749 §5.2 `error`, kept only when it has error-code syntax (1*NQSCHAR, here at
    /// most 64 characters) and nothing in it looks like a credential.
    func errorCode(_ body: ByteBuffer) -> String? {
        guard let code = errorObject(body)?["error"]?.string, (1...64).contains(code.unicodeScalars.count),
            code.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) && $0 != "\"" && $0 != "\\" }),
            scrubber.scrub(code) == code
        else { return nil }
        return code
    }

    private func errorDetail(_ body: ByteBuffer) -> String? {
        guard let text = errorObject(body)?["error_description"]?.string else { return nil }
        return PrintableText.clean(scrubber.scrub(text), limit: 200)
    }
}
