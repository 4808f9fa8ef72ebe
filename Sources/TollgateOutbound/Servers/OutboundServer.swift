import Foundation
import TollgateKit

/// One configured outbound server, built once at start: its name, the peer's base URL, the source
/// of its tokens, and the connection pool the proxy reaches the peer with.
package final class OutboundServer: Sendable {
    package let name: String
    /// Base URL of the DICOMweb peer; proxied paths are appended below it.
    package let url: String
    package let tokens: TokenSource
    let upstream: UpstreamConnectionPool
    /// `headers`: set on every proxied request and pushed to Orthanc with the token.
    package let staticHeaders: [(name: String, value: String)]
    /// Guards proxied requests to the peer; nil when `upstream_circuit_breaker.enabled` is false.
    package let upstreamBreaker: CircuitBreaker?
    /// Answers the breaker counts as failures.
    let upstreamFailureStatuses: Set<Int>
    /// `dpop: true`: the key its proofs are signed with.
    package let dpop: DPoPKey?
    private let tokenEndpointHost: String

    init(
        name: String, url: String, tokenEndpoint: String, tokens: TokenSource, upstream: UpstreamConnectionPool,
        staticHeaders: [(name: String, value: String)] = [], upstreamBreaker: CircuitBreaker? = nil, upstreamFailureStatuses: Set<Int> = [],
        dpop: DPoPKey? = nil
    ) {
        self.dpop = dpop
        self.name = name
        self.url = url
        self.upstreamBreaker = upstreamBreaker
        self.upstreamFailureStatuses = upstreamFailureStatuses
        self.staticHeaders = staticHeaders
        self.tokens = tokens
        self.upstream = upstream
        self.tokenEndpointHost = URL(string: tokenEndpoint)?.host ?? ""
    }

    /// What `/dicomweb-oauth/servers` shows: no token characters and no credential in the URL, ever.
    package var status: OutboundServerStatus {
        OutboundServerStatus(
            name: name, url: URLRedaction.redacted(url), tokenEndpointHost: tokenEndpointHost, token: tokens.status,
            upstreamCircuit: upstreamBreaker?.state)
    }
}

package struct OutboundServerStatus: Sendable {
    package let name: String
    package let url: String
    package let tokenEndpointHost: String
    package let token: TokenSourceStatus
    /// The proxy's breaker for this peer; nil when it is turned off.
    package let upstreamCircuit: CircuitBreaker.State?

    package var tokenValid: Bool { token.tokenValid }
}
