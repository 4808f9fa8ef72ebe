import Logging
import Synchronization
import TollgateInbound
import TollgateKit

/// What an adapter learnt about a request that the access-log line reports: the issuer alias and
/// the decision reason. A reference, so the middleware sees what a handler wrote into its copy
/// of the context; made only when the access log is on.
final class AccessNote: Sendable {
    private let decided = Mutex<(issuer: String?, reason: String)?>(nil)
    private let matchedRule = Mutex<String?>(nil)
    private let orthancAccess = Mutex<OrthancAccess?>(nil)

    var decision: (issuer: String?, reason: String)? { decided.withLock { $0 } }
    var rule: String? { matchedRule.withLock { $0 } }
    var orthanc: OrthancAccess? { orthancAccess.withLock { $0 } }

    func record(_ decision: Decision) {
        decided.withLock { $0 = (decision.issuer, decision.reasonLabel) }
    }

    func record(rule: String) {
        matchedRule.withLock { $0 = rule }
    }

    func record(orthanc: OrthancAccess) {
        orthancAccess.withLock { $0 = orthanc }
    }
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

    /// Every front end reports its decision here: to the access log, and a refusal at debug.
    func noteDecision(_ decision: Decision) {
        accessNote?.record(decision)
        if !decision.isAllowed {
            logger.debug("token refused", metadata: ["reason": .string(decision.reasonLabel), "issuer": .string(decision.issuer ?? "none")])
        }
    }
}
