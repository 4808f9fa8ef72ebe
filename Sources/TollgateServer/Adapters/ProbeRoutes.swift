import Hummingbird
import TollgateInbound
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// Liveness, readiness and Prometheus metrics.
struct ProbeRoutes {
    let readiness: Readiness
    let metrics: TollgateMetrics
    let cache: DecisionCache
    let outbound: OutboundServers
    let registry: ConnectionRegistry?
    let audit: AuditTrail?
    let version: String
    /// Whether `/console` is served (the index links to it).
    var console = false

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        let health = #"{"status":"healthy","plugin":"tollgate","version":"# + JSONText.string(version) + "}"
        // Alive whatever else is wrong; what is degraded (an IdP or a peer's token endpoint down) is
        // listed here rather than taking the replica out of the load balancer.
        router.get("/health") { _, _ in
            let degraded = readiness.degradedReasons()
            guard !degraded.isEmpty else { return Reply.json(health) }
            return Reply.json(
                JSONText.object([
                    ("status", .string("healthy")), ("plugin", .string("tollgate")), ("version", .string(version)), ("degraded", .strings(degraded)),
                ]))
        }
        let index = JSONText.object([
            ("service", .string("tollgate")), ("version", .string(version)),
            (
                "links",
                .raw(
                    JSONText.object(
                        [
                            ("health", .string("/health")), ("ready", .string("/ready")), ("metrics", .string("/metrics")),
                        ] + (console ? [("console", .string("/console"))] : [])))
            ),
        ])
        router.get("/") { _, _ in Reply.json(index) }
        router.get("/ready") { _, _ in
            let reasons = readiness.notReadyReasons()
            if reasons.isEmpty { return Reply.json(#"{"status":"ready"}"#) }
            return Reply.json(
                JSONText.object([("status", .string("not_ready")), ("reasons", .strings(reasons))]),
                status: .serviceUnavailable
            )
        }
        router.get("/metrics") { _, _ in
            metrics.sample(outbound.all.map(\.status))
            if let audit { metrics.sampleAudit(audit.depths()) }
            if let registry, let counts = try? await registry.rowsPerKey() { metrics.sampleRegistry(counts) }
            return Reply.bytes(metrics.render(cacheEntries: cache.count), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}
