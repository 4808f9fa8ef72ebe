import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// Seed 004's outbound metric names: token fetches, token cache, upstream latency, breakers.
extension TollgateMetrics: TokenSourceObserver, UpstreamObserver {
    public func tokenFetched(server: String, result: String, seconds: Double) {
        counter("token_fetch_total", [("server", server), ("result", result)]).increment()
        timer("token_fetch_duration_seconds", [("server", server)]).recordNanoseconds(Int64(seconds * 1e9))
    }

    public func tokenServed(server: String, fromCache: Bool) {
        counter(fromCache ? "token_cache_hits_total" : "token_cache_misses_total", [("server", server)]).increment()
    }

    public func upstreamAnswered(server: String, status: Int, seconds: Double) {
        timer("upstream_request_duration_seconds", [("server", server), ("status_class", "\(status / 100)xx")])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Values that change with time alone, sampled when `/metrics` is scraped.
    func sample(_ statuses: [OutboundServerStatus]) {
        for status in statuses {
            gauge("token_expires_in_seconds", [("server", status.name)]).record(status.token.tokenValid ? status.token.expiresInSeconds ?? 0 : 0)
            gauge("circuit_breaker_state", [("server", status.name)]).record(status.token.circuit.rawValue)
        }
    }
}

extension TollgateMetrics: OrthancPushObserver {
    public func orthancPushed(orthancServer: String, result: String) {
        counter("orthanc_push_total", [("orthanc_server", orthancServer), ("result", result)]).increment()
    }
}
