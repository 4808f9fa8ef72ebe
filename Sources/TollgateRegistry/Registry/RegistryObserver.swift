/// What the registry tells metrics: every token request it makes, whoever caused it.
package protocol RegistryObserver: Sendable {
    /// `grant`: client_credentials, refresh_token or authorization_code; `result`: success,
    /// invalid_grant or a `TokenFetchError.Kind`.
    func tokenRequested(grant: String, result: String)
    /// `tokenType`: refresh_token or access_token; `result`: revoked, failed or no_endpoint.
    func tokenRevoked(tokenType: String, result: String)
}

package struct NoRegistryObserver: RegistryObserver {
    package init() {}
    package func tokenRequested(grant: String, result: String) {}
    package func tokenRevoked(tokenType: String, result: String) {}
}
