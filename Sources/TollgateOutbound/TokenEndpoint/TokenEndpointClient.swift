import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import TollgateKit

/// One token request to one token endpoint (RFC 6749 §4.4 client credentials, a refresh or a code
/// exchange, or the grant an authentication method puts in its place): no retries, no caching.
struct TokenEndpointClient: Sendable {
    let endpoint: String
    let authentication: any TokenRequestAuthentication
    let scope: String?
    let resource: String?
    let timeout: TimeAmount
    let parser: TokenResponseParser
    let http: HTTPClient
    var grant: TokenGrant = .clientCredentials
    /// With a DPoP key, each request carries a proof (RFC 9449 §5), and an answer asking for a
    /// server nonce (`use_dpop_nonce`, §8) is tried once more with it.
    var dpop: DPoPKey?

    func fetch(now: @Sendable () -> Double) async -> Result<AccessToken, TokenFetchError> {
        let first = await fetchOnce(now: now)
        guard let dpop, case .failure(let error) = first, error.oauthError == "use_dpop_nonce", dpop.hasNonce(for: endpoint, scope: .tokenEndpoint) else {
            return first
        }
        return await fetchOnce(now: now)
    }

    private func fetchOnce(now: @Sendable () -> Double) async -> Result<AccessToken, TokenFetchError> {
        var form = grant.formFields
        if grant.sendsScope {
            if let scope { form.append(("scope", scope)) }
            if let resource { form.append(("resource", resource)) }
        }
        var headers = HTTPHeaders()
        do {
            try await authentication.apply(form: &form, headers: &headers, endpoint: endpoint, now: now())
        } catch let error as CredentialUnavailable {
            return .failure(.init(.credentials, detail: error.detail))
        } catch {
            return .failure(.init(.signing, detail: "could not sign the client assertion"))
        }
        if let dpop { headers.replaceOrAdd(name: "DPoP", value: dpop.proof(method: "POST", url: endpoint, scope: .tokenEndpoint)) }
        let request = HTTPFetch.formRequest(url: endpoint, form: form, headers: headers)
        switch await HTTPFetch.send(request, client: http, timeout: timeout, call: "token") {
        case .failure(.timeout):
            return .failure(.init(.timeout, detail: "no answer within \(timeout.nanoseconds / 1_000_000) ms"))
        case .failure(.unreadable):
            return .failure(.init(.unparseable, detail: "answer too large or unreadable"))
        case .failure(.status(let status)):
            return .failure(.init(.serverError, status: status, detail: "unexpected answer"))
        case .failure(.unreachable):
            return .failure(.init(.unreachable, detail: "cannot connect to the token endpoint"))
        case .success(let response):
            dpop?.note(nonce: response.headers.first(name: "DPoP-Nonce"), from: endpoint, scope: .tokenEndpoint)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { HTTPDate.retryAfterSeconds($0, now: now()) }
            return parser.parse(status: response.status, body: response.body, retryAfter: retryAfter, now: now())
        }
    }
}
