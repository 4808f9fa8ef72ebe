package import AsyncHTTPClient
import TollgateKit

/// One token request with credentials held at run time (a registry connection) rather than in
/// `config.yaml`: the same client, parser and secret scrubbing as a configured server, without
/// its retry, cache or breaker.
package struct RuntimeTokenRequest: Sendable {
    private let tokenEndpoint: String
    private let authentication: RuntimeClientAuthentication
    private let grant: TokenGrant
    private let scope: String?
    private let resource: String?
    private let timeoutMS: Int
    private let defaultExpiresIn: Int
    private let http: HTTPClient

    package init(
        tokenEndpoint: String, authentication: RuntimeClientAuthentication, grant: TokenGrant, scope: String?, resource: String?,
        timeoutMS: Int, defaultExpiresIn: Int = 3600, http: HTTPClient
    ) {
        self.tokenEndpoint = tokenEndpoint
        self.authentication = authentication
        self.grant = grant
        self.scope = scope
        self.resource = resource
        self.timeoutMS = timeoutMS
        self.defaultExpiresIn = defaultExpiresIn
        self.http = http
    }

    package func fetch(now: @escaping @Sendable () -> Double) async -> Result<AccessToken, TokenFetchError> {
        let method: any TokenRequestAuthentication
        do {
            method = try await authentication.authentication()
        } catch {
            return .failure(TokenFetchError(.credentials, detail: "the connection's private_key is not a PEM RSA or P-256 EC private key"))
        }
        var client = TokenEndpointClient(
            endpoint: tokenEndpoint, authentication: method, scope: scope, resource: resource, timeout: .configured(milliseconds: timeoutMS),
            parser: TokenResponseParser(defaultExpiresIn: defaultExpiresIn, scrubber: authentication.scrubber(also: grant.secrets)), http: http)
        client.grant = grant
        return await client.fetch(now: now)
    }
}
