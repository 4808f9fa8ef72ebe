import Logging
import Synchronization
import TollgateInbound

/// What an adapter learnt about a request that the access-log line reports: the issuer alias and
/// the decision reason. A reference, so the middleware sees what a handler wrote into its copy
/// of the context; made only when the access log is on.
final class AccessNote: Sendable {
    private let decided = Mutex<(issuer: String?, reason: String)?>(nil)
    private let matchedRule = Mutex<String?>(nil)

    var decision: (issuer: String?, reason: String)? { decided.withLock { $0 } }
    var rule: String? { matchedRule.withLock { $0 } }

    func record(_ decision: Decision) {
        decided.withLock { $0 = (decision.issuer, decision.reasonLabel) }
    }

    func record(rule: String) {
        matchedRule.withLock { $0 = rule }
    }
}

extension TollgateRequestContext {
    /// The forward-auth rule a request matched, for the access log.
    func noteRule(_ name: String?) {
        if let name { accessNote?.record(rule: name) }
    }

    /// Every front end reports its decision here: to the access log, and a refusal at debug.
    func noteDecision(_ decision: Decision) {
        accessNote?.record(decision)
        if !decision.isAllowed {
            logger.debug("token refused", metadata: ["reason": .string(decision.reasonLabel), "issuer": .string(decision.issuer ?? "none")])
        }
    }
}
