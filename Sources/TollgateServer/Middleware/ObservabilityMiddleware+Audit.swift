import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateInbound
import TollgateKit

extension ObservabilityMiddleware {
    /// The audit record of a request whose adapter noted an act; nil when it noted none, or when
    /// an allowed access decision is left out (`include_allowed`, `exclude_routes`, or a profile
    /// answered from the cache: get-profile is recorded once per cache miss).
    func auditEvent(
        _ request: Request, context: TollgateRequestContext, status: Int, note: AccessNote, requestID: String, traceID: String?
    ) -> AuditEvent? {
        guard let audit else { return nil }
        let (decision, rule, orthanc, facts) = note.all
        guard let action = facts.action else { return nil }
        let outcome: AuditEvent.Outcome = facts.outcome ?? (status < 400 && decision?.isAllowed != false ? .allowed : .denied)
        if action.category == .access && outcome == .allowed {
            if action == .userProfile && decision?.fromCache == true { return nil }
            guard audit.records(allowedAccessOn: request.uri.path) else { return nil }
        }
        var event = AuditEvent(
            category: action.category, action: action, outcome: outcome, status: status,
            method: facts.method ?? request.method.rawValue,
            path: AuditEvent.clean(facts.path ?? request.uri.path, limit: 512) ?? "/", requestID: requestID)
        event.traceID = traceID
        if let claims = decision?.principal?.claims {
            event.subject = AuditEvent.clean(claims.subject)
            event.clientID = AuditEvent.clean(claims.clientID)
            event.name = AuditEvent.clean(claims.username)
        }
        event.issuer = AuditEvent.clean(decision?.issuer)
        event.admin = facts.admin
        (event.clientAddress, event.peerAddress) = addresses(request, peer: context.peerAddress)
        event.target = AuditEvent.clean(facts.target, limit: 128)
        event.resource =
            facts.resource
            ?? orthanc.flatMap { access in
                access.resource.map { AuditEvent.Resource(level: access.level, orthancID: $0, dicomUID: nil) }
            }
        event.shareLink = facts.shareLink
        event.rule = AuditEvent.clean(rule, limit: 128)
        event.permission = AuditEvent.clean(facts.permission ?? orthanc?.permission, limit: 64)
        event.reason = AuditEvent.clean(facts.reason ?? decision.map(\.reasonLabel), limit: 200)
        return event
    }

    /// The client, and the proxy it came through: `X-Forwarded-For` is believed only from a
    /// trusted proxy, read from the right, skipping trusted hops; otherwise the peer is the client.
    func addresses(_ request: Request, peer: SocketAddress?) -> (client: String?, proxy: String?) {
        let peerText = peer?.ipAddress
        guard let peer, trustedProxies.contains(peer) else { return (peerText, nil) }
        let hops = request.headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        // A trusted peer that names no client is the caller itself.
        if hops.isEmpty { return (peerText, nil) }
        for hop in hops.reversed() {
            guard let address = try? SocketAddress(ipAddress: hop, port: 0) else { return (nil, peerText) }
            if !trustedProxies.contains(address) { return (address.ipAddress, peerText) }
        }
        return (hops.first.flatMap { AuditEvent.clean($0, limit: 64) } ?? peerText, peerText)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
