import TollgateDevIssuer
import TollgateInbound
import TollgateOutbound

/// What `/ready` waits for: every issuer reached, the dev issuer serving when it is on, and a
/// valid token for every outbound server (unless `outbound.ready_requires_tokens` is false).
package struct Readiness: Sendable {
    let issuers: [IssuerRuntime]
    let devIssuer: DevIssuer?
    let outbound: OutboundServers
    let pusher: OrthancPusher
    let audit: AuditTrail?

    package func notReadyReasons() -> [String] {
        var reasons = issuers.compactMap(\.notReadyReason)
        if let devIssuer, !devIssuer.isServing { reasons.append("dev issuer: not serving yet") }
        return reasons + outbound.notReadyReasons() + pusher.notReadyReasons() + (audit?.notReadyReasons() ?? [])
    }
}
