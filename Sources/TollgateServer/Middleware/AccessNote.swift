import Logging
import Synchronization
import TollgateInbound
import TollgateKit

/// What an adapter learnt about a request, for the access-log line and the audit trail: the
/// decision, the rule, the Orthanc resource and the audited act. A reference, so the middleware
/// sees what a handler wrote into its copy of the context; made only when either is on.
final class AccessNote: Sendable {
    private struct State {
        var decision: Decision?
        var rule: String?
        var orthanc: OrthancAccess?
        var audit = AuditNote()
    }

    private let state = Mutex(State())
    /// Whether the audit trail is on: without it the adapters' audit notes are not even built.
    let audits: Bool

    init(audits: Bool) {
        self.audits = audits
    }

    var decision: Decision? { state.withLock { $0.decision } }
    var rule: String? { state.withLock { $0.rule } }
    var orthanc: OrthancAccess? { state.withLock { $0.orthanc } }
    var audit: AuditNote { state.withLock { $0.audit } }
    /// Everything at once, for the end of a request.
    var all: (decision: Decision?, rule: String?, orthanc: OrthancAccess?, audit: AuditNote) {
        state.withLock { ($0.decision, $0.rule, $0.orthanc, $0.audit) }
    }

    func record(_ decision: Decision) {
        state.withLock { $0.decision = decision }
    }

    func record(rule: String) {
        state.withLock { $0.rule = rule }
    }

    func record(orthanc: OrthancAccess) {
        state.withLock { $0.orthanc = orthanc }
    }

    func recordAudit(_ update: (inout AuditNote) -> Void) {
        guard audits else { return }
        state.withLock { update(&$0.audit) }
    }
}

/// What the audit trail needs beyond the decision: which act this request was, and about what.
/// Set by the adapter that did it; a request with no action leaves no audit record.
struct AuditNote: Sendable {
    var action: AuditAction?
    /// The guarded request's method and canonical path (forward auth), when it is not this request's own.
    var method: String?
    var path: String?
    var target: String?
    var resource: AuditEvent.Resource?
    var shareLink: AuditEvent.ShareLink?
    var admin: String?
    var permission: String?
    var reason: String?
    /// Set when the answer's status does not tell (a 200 that refuses, as Orthanc's protocol does).
    var outcome: AuditEvent.Outcome?
}

/// What an Orthanc route decided about the request Orthanc asked about, for the access line:
/// the guarded method, the resource (level and id), whose profile, and which permission or reason.
/// Every value came from Orthanc or an IdP: printable and bounded before it is kept.
struct OrthancAccess: Sendable, Equatable {
    let method: String?
    let level: String?
    let resource: String?
    let user: String?
    /// The permission that granted it, when a profile did.
    let permission: String?

    init(method: String?, level: String?, resource: String?, user: String?, permission: String? = nil) {
        self.method = method.map { PrintableText.clean($0.lowercased(), limit: 16) }
        self.level = level.map { PrintableText.clean($0, limit: 16) }
        self.resource = resource.map { PrintableText.clean($0, limit: 128) }
        self.user = user.map { PrintableText.clean($0, limit: 128) }
        self.permission = permission.map { PrintableText.clean($0, limit: 64) }
    }

    /// The access line's fields, in a fixed order; absent values are left out.
    var fields: [(String, String)] {
        [
            ("orthanc_method", method), ("orthanc_level", level), ("orthanc_resource", resource), ("orthanc_user", user),
            ("orthanc_permission", permission),
        ].compactMap { name, value in value.map { (name, $0) } }
    }
}

extension TollgateRequestContext {
    /// The forward-auth rule a request matched, for the access log.
    func noteRule(_ name: String?) {
        if let name { accessNote?.record(rule: name) }
    }

    /// An Orthanc route's view of the request it decided about.
    func noteOrthanc(_ access: OrthancAccess) {
        accessNote?.record(orthanc: access)
    }

    /// Whether this request's audit record is being noted (the trail is on).
    var isAuditing: Bool { accessNote?.audits == true }

    /// The audited act this request is, and what the adapter knows about it.
    func noteAudit(_ action: AuditAction, _ update: (inout AuditNote) -> Void = { _ in }) {
        accessNote?.recordAudit { note in
            note.action = action
            update(&note)
        }
    }

    /// The request a proxy asked about, as the audit record's method and path.
    func noteGuarded(_ facts: RequestFacts) {
        noteAuditDetails { note in
            note.method = facts.method
            note.path = facts.path
        }
    }

    /// Details of the act already noted (or about to be), without naming it.
    func noteAuditDetails(_ update: (inout AuditNote) -> Void) {
        accessNote?.recordAudit(update)
    }

    /// Every front end reports its decision here: to the access log, and a refusal at debug.
    func noteDecision(_ decision: Decision) {
        accessNote?.record(decision)
        if !decision.isAllowed {
            var metadata: Logger.Metadata = ["reason": .string(decision.reasonLabel), "issuer": .string(decision.issuer ?? "none")]
            if let detail = decision.detail { metadata["detail"] = .string(detail) }
            logger.debug("token refused", metadata: metadata)
        }
    }
}
