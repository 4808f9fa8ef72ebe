import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateOutbound

/// What `/ready` waits for. With `server.readiness: startup` (the default) a start-up gate: every
/// issuer reached, the dev issuer serving when it is on, a first token for each outbound server
/// `required_at_start`, the Orthanc definitions pushed when `orthanc.ready_requires_push`; once
/// passed, only this replica's own faults count: draining, an audit sink failing past its budget,
/// the registry's store unreachable. An IdP or peer outage then shows on `/health` and the metrics
/// instead, so it does not take every replica out of the load balancer at once. `continuous` keeps
/// the start-up checks all the time.
package struct Readiness: Sendable {
    let issuers: [IssuerRuntime]
    let devIssuer: DevIssuer?
    let outbound: OutboundServers
    let pusher: OrthancPusher
    let audit: AuditTrail?
    let registryHealth: RegistryHealth?
    let mode: ReadinessMode
    let drain = DrainState()
    let gate = StartupGate()

    package func notReadyReasons() -> [String] {
        var reasons = drain.isDraining ? ["shutting down"] : []
        if mode == .continuous || !gate.isPassed {
            let startup = startupReasons()
            if startup.isEmpty { gate.pass() }
            reasons += startup
        }
        if let reason = registryHealth?.notReadyReason { reasons.append(reason) }
        return reasons + (audit?.notReadyReasons() ?? [])
    }

    private func startupReasons() -> [String] {
        var reasons = issuers.compactMap(\.notReadyReason)
        if let devIssuer, !devIssuer.isServing { reasons.append("dev issuer: not serving yet") }
        return reasons + outbound.notReadyReasons() + pusher.notReadyReasons()
    }

    /// What is degraded without making this replica unready: issuers not reached and outbound
    /// servers without a usable token, for `/health`.
    func degradedReasons() -> [String] {
        issuers.compactMap(\.notReadyReason) + outbound.degradedReasons()
    }
}
