import TollgateKit
import TollgateOutbound

/// Outbound metrics (seed 004's, under Tollgate's naming): token fetches, token cache, upstream
/// latency, breakers, Orthanc pushes.
extension TollgateMetrics: TokenSourceObserver, UpstreamObserver, OrthancPushObserver {
    package func tokenFetched(server: String, result: String, seconds: Double) {
        counter(.tokenFetches, [("server", server), ("result", result)]).increment()
        histogram(.tokenFetchDuration, [("server", server)]).record(.nanoseconds(Int64(Int(saturating: seconds * 1e9))))
    }

    package func tokenServed(server: String, fromCache: Bool) {
        counter(fromCache ? .tokenCacheHits : .tokenCacheMisses, [("server", server)]).increment()
    }

    package func upstreamAnswered(server: String, status: Int, seconds: Double) {
        histogram(.upstreamRequests, [("server", server), ("status_class", "\(status / 100)xx")])
            .record(.nanoseconds(Int64(Int(saturating: seconds * 1e9))))
    }

    package func orthancPushed(orthancServer: String, result: String) {
        counter(.orthancPushes, [("orthanc_server", orthancServer), ("result", result)]).increment()
    }

    /// Values that change with time alone, sampled when `/metrics` is scraped.
    func sample(_ statuses: [OutboundServerStatus]) {
        for status in statuses {
            gauge(.tokenExpiresIn, [("server", status.name)]).set(Double(status.token.tokenValid ? status.token.expiresInSeconds ?? 0 : 0))
            sampleBreaker(server: status.name, kind: "token", status.token.circuit)
            if let upstream = status.upstreamCircuit { sampleBreaker(server: status.name, kind: "upstream", upstream) }
        }
    }

    /// The breaker as a number (kept for dashboards written against it) and as a state set: one
    /// series per state, 1 for the current one, so alerts can say `state="open"`.
    private func sampleBreaker(server: String, kind: String, _ state: CircuitBreaker.State) {
        gauge(.circuitBreakerState, [("server", server), ("kind", kind)]).set(Double(state.rawValue))
        for candidate in [CircuitBreaker.State.closed, .open, .halfOpen] {
            gauge(.circuitBreakerStates, [("server", server), ("kind", kind), ("state", candidate.name)]).set(Double(candidate == state ? 1 : 0))
        }
    }
}
