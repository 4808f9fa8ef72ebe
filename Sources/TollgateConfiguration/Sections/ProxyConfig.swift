/// `proxy:` — the token-injecting reverse proxy under `/proxy/{server}/`.
package struct ProxyConfig: Sendable, Decodable {
    /// Caller headers passed upstream (case-insensitive); everything else is dropped.
    package var forwardRequestHeaders: [String] = ["accept", "content-type", "accept-encoding", "content-length", "if-none-match"]
    /// 0 = unlimited (bodies are streamed either way).
    package var maxBodyBytes: Int = 0
    /// Longest wait for upstream bytes once the request is sent (idle read timeout).
    package var upstreamTimeoutMS: Int = 30000
    /// Connections the proxy opens to one outbound server at most; further requests wait for one.
    package var maxUpstreamConnections: Int = 64
    /// How long a pooled upstream connection may sit unused before it is closed.
    package var upstreamIdleTimeoutMS: Int = 60000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case forwardRequestHeaders = "forward_request_headers"
        case maxBodyBytes = "max_body_bytes"
        case upstreamTimeoutMS = "upstream_timeout_ms"
        case maxUpstreamConnections = "max_upstream_connections"
        case upstreamIdleTimeoutMS = "upstream_idle_timeout_ms"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        forwardRequestHeaders = try c.decode(.forwardRequestHeaders, default: forwardRequestHeaders)
        maxBodyBytes = try c.decode(.maxBodyBytes, default: maxBodyBytes)
        upstreamTimeoutMS = try c.decode(.upstreamTimeoutMS, default: upstreamTimeoutMS)
        maxUpstreamConnections = try c.decode(.maxUpstreamConnections, default: maxUpstreamConnections)
        upstreamIdleTimeoutMS = try c.decode(.upstreamIdleTimeoutMS, default: upstreamIdleTimeoutMS)
    }
}
