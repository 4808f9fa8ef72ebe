import AsyncHTTPClient
import TollgateKit

/// One token request with credentials held at run time (a registry connection) rather than in
/// `config.yaml`: the same client, parser and secret scrubbing as a configured server, without
/// its retry, cache or breaker.
public struct RuntimeTokenRequest: Sendable {
    private let client: TokenEndpointClient

    public init(tokenEndpoint: String, credentials: ClientCredentials, grant: TokenGrant, scope: String?, resource: String?,
                timeoutMS: Int, defaultExpiresIn: Int = 3600, http: HTTPClient) {
        var client = TokenEndpointClient(
            endpoint: tokenEndpoint, authentication: ClientSecretAuthentication(credentials: credentials), scope: scope, resource: resource,
            timeout: .configured(milliseconds: timeoutMS),
            parser: TokenResponseParser(defaultExpiresIn: defaultExpiresIn, scrubber: SecretScrubber(
                secrets: [credentials.secret.value] + grant.secrets, basicPairs: [(credentials.clientID, credentials.secret.value)])),
            http: http)
        client.grant = grant
        self.client = client
    }

    public func fetch(now: @escaping @Sendable () -> Double) async -> Result<AccessToken, TokenFetchError> {
        await client.fetch(now: now)
    }
}
