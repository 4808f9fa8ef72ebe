package import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TollgateKit

/// RFC 7009 token revocation for a registry connection: the token and its type hint, with the
/// client's own authentication. The IdP answers 200 whether or not it knew the token (§2.2).
package struct RuntimeTokenRevocation: Sendable {
    package enum Hint: String, Sendable {
        case refreshToken = "refresh_token"
        case accessToken = "access_token"
    }

    /// What came of one revocation request; a refusal's text is safe to log (no token, no secret,
    /// IdP words cleaned).
    package enum Outcome: Sendable, Equatable {
        case revoked
        case refused(String)

        /// A metric label.
        package var label: String {
            switch self {
            case .revoked: "revoked"
            case .refused: "failed"
            }
        }
    }

    private let endpoint: String
    private let authentication: RuntimeClientAuthentication
    private let timeoutMS: Int
    private let http: HTTPClient

    package init(endpoint: String, authentication: RuntimeClientAuthentication, timeoutMS: Int, http: HTTPClient) {
        self.endpoint = endpoint
        self.authentication = authentication
        self.timeoutMS = timeoutMS
        self.http = http
    }

    package func revoke(_ token: String, hint: Hint, now: Double) async -> Outcome {
        var form: [(String, String)] = [("token", token), ("token_type_hint", hint.rawValue)]
        var headers = HTTPHeaders()
        do {
            try await authentication.authentication().apply(form: &form, headers: &headers, endpoint: endpoint, now: now)
        } catch {
            return .refused("the client's credentials could not be applied")
        }
        let timeout = TimeAmount.configured(milliseconds: timeoutMS)
        switch await HTTPFetch.send(HTTPFetch.formRequest(url: endpoint, form: form, headers: headers), client: http, timeout: timeout, call: "revoke") {
        case .failure(.timeout): return .refused("no answer within \(timeoutMS) ms")
        case .failure(.status(let status)): return .refused("HTTP \(status)")
        case .failure: return .refused("revocation endpoint unreachable or its answer unreadable")
        case .success(let response) where response.status == 200:
            return .revoked
        case .success(let response):
            let scrubber = authentication.scrubber(also: [token])
            let object = try? StrictJSON.object(response.body.readableBytesView)
            var text = "HTTP \(response.status)"
            if let code = object?["error"]?.string { text += " " + PrintableText.clean(scrubber.scrub(code), limit: 64) }
            return .refused(text)
        }
    }
}
