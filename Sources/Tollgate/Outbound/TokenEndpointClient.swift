import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One RFC 6749 §4.4 client-credentials request to one token endpoint: no retries, no caching.
struct TokenEndpointClient: Sendable {
    enum Authentication: Sendable {
        case secret(ClientCredentials)
        case privateKeyJWT(clientID: String, signer: ClientAssertionSigner)
    }

    let endpoint: String
    let authentication: Authentication
    let scope: String?
    let resource: String?
    let timeout: TimeAmount
    let parser: TokenResponseParser
    let http: HTTPClient

    init(server: OutboundServerConfig, signer: ClientAssertionSigner?, http: HTTPClient) {
        endpoint = server.tokenEndpoint
        if let signer {
            authentication = .privateKeyJWT(clientID: server.clientID, signer: signer)
        } else {
            let method: ClientAuthMethod = server.authMethod == .clientSecretPost ? .clientSecretPost : .clientSecretBasic
            authentication = .secret(ClientCredentials(clientID: server.clientID, secret: server.clientSecret ?? Secret(""), method: method))
        }
        scope = server.scope
        resource = server.resource
        timeout = .milliseconds(Int64(server.timeoutMS))
        parser = TokenResponseParser(defaultExpiresIn: server.defaultExpiresIn, redact: [server.clientSecret?.value ?? ""])
        self.http = http
    }

    func fetch(now: @Sendable () -> Double) async -> Result<AccessToken, TokenFetchError> {
        var form: [(String, String)] = [("grant_type", "client_credentials")]
        if let scope { form.append(("scope", scope)) }
        if let resource { form.append(("resource", resource)) }
        var headers = HTTPHeaders()
        switch authentication {
        case .secret(let credentials):
            credentials.apply(headers: &headers, form: &form)
        case .privateKeyJWT(let clientID, let signer):
            do {
                let assertion = try await signer.assertion(clientID: clientID, audience: endpoint, now: now())
                form += [("client_id", clientID), ("client_assertion_type", ClientAssertionSigner.assertionType), ("client_assertion", assertion)]
            } catch {
                return .failure(.init(.signing, detail: "could not sign the client assertion"))
            }
        }
        let request = HTTPFetch.formRequest(url: endpoint, form: form, headers: headers)
        switch await HTTPFetch.send(request, client: http, timeout: timeout) {
        case .failure(.timeout):
            return .failure(.init(.timeout, detail: "no answer within \(timeout.nanoseconds / 1_000_000) ms"))
        case .failure(.unreadable):
            return .failure(.init(.unparseable, detail: "answer too large or unreadable"))
        case .failure(.status(let status)):
            return .failure(.init(.serverError, status: status, detail: "unexpected answer"))
        case .failure(.unreachable):
            return .failure(.init(.unreachable, detail: "cannot connect to the token endpoint"))
        case .success(let response):
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { Self.retryAfterSeconds($0, now: now()) }
            return parser.parse(status: response.status, body: response.body, retryAfter: retryAfter, now: now())
        }
    }

    /// RFC 9110 §10.2.3: delay-seconds or an HTTP-date.
    static func retryAfterSeconds(_ value: String, now: Double) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return Double(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSince1970 - now)
    }
}
