/// Where one proxied request goes and how it gets its token: a configured server's pool and
/// token source, or a runtime connection's (resolved by the caller, which owns the registry).
package struct ProxyRoute: Sendable {
    package let name: String
    let pool: UpstreamConnectionPool
    let staticHeaders: [(name: String, value: String)]
    let breaker: CircuitBreaker?
    let failureStatuses: Set<Int>
    /// Signs a proof for each request when the server's tokens are DPoP-bound.
    let dpop: DPoPKey?
    /// The token to send; given the token a peer refused (401), a different one or a failure.
    let token: @Sendable (_ refused: AccessToken?) async -> Result<AccessToken, TokenFetchError>

    init(server: OutboundServer) {
        name = server.name
        pool = server.upstream
        staticHeaders = server.staticHeaders
        breaker = server.upstreamBreaker
        failureStatuses = server.upstreamFailureStatuses
        dpop = server.dpop
        let tokens = server.tokens
        token = { refused in
            if let refused { tokens.invalidate(refused) }
            return await tokens.token()
        }
    }

    init(name: String, pool: UpstreamConnectionPool, token: @escaping @Sendable (AccessToken?) async -> Result<AccessToken, TokenFetchError>) {
        self.name = name
        self.pool = pool
        staticHeaders = []
        breaker = nil
        failureStatuses = []
        dpop = nil
        self.token = token
    }
}
