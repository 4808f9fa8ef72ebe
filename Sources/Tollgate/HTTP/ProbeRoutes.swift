import Hummingbird

/// Liveness, readiness and Prometheus metrics.
struct ProbeRoutes {
    let readiness: Readiness
    let metrics: TollgateMetrics
    let cache: DecisionCache
    let outbound: OutboundTokens
    let version: String

    func register(on router: Router<TollgateRequestContext>) {
        let health = #"{"status":"healthy","plugin":"tollgate","version":"# + JSONText.string(version) + "}"
        router.get("/health") { _, _ in Reply.json(health) }
        router.get("/ready") { _, _ in
            let reasons = readiness.notReadyReasons()
            if reasons.isEmpty { return Reply.json(#"{"status":"ready"}"#) }
            return Reply.json(
                JSONText.object([("status", .string("not_ready")), ("reasons", .strings(reasons))]),
                status: .serviceUnavailable
            )
        }
        router.get("/metrics") { _, _ in
            metrics.sample(outbound.sources.map(\.status))
            return Reply.bytes(metrics.render(cacheEntries: cache.count), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}

/// What `/ready` waits for: every issuer reached, the dev issuer serving when it is on, and a
/// valid token for every outbound server (unless `outbound.ready_requires_tokens` is false).
public struct Readiness: Sendable {
    let issuers: [IssuerRuntime]
    let devIssuer: DevIssuer?
    let outbound: OutboundTokens
    let pusher: OrthancPusher

    public func notReadyReasons() -> [String] {
        var reasons = issuers.compactMap(\.notReadyReason)
        if let devIssuer, !devIssuer.isServing { reasons.append("dev issuer: not serving yet") }
        return reasons + outbound.notReadyReasons() + pusher.notReadyReasons()
    }
}
