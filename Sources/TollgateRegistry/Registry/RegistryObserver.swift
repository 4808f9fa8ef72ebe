/// What the registry tells metrics: every token request it makes, whoever caused it.
public protocol RegistryObserver: Sendable {
    /// `grant`: client_credentials, refresh_token or authorization_code; `result`: success,
    /// invalid_grant or a `TokenFetchError.Kind`.
    func tokenRequested(grant: String, result: String)
    /// `tokenType`: refresh_token or access_token; `result`: revoked, failed or no_endpoint.
    func tokenRevoked(tokenType: String, result: String)
}

public struct NoRegistryObserver: RegistryObserver {
    public init() {}
    public func tokenRequested(grant: String, result: String) {}
    public func tokenRevoked(tokenType: String, result: String) {}
}
