import TollgateKit

/// A token whose verdict is known without waiting: refused for its shape, or found in the cache
/// unbound. The event-loop path decides only these; anything else goes the way that may wait.
package struct SettledToken: Sendable {
    fileprivate enum Outcome {
        /// No usable credential in the header: refused before any token was at hand.
        case refused(DenialReason)
        /// A token refused for its shape alone.
        case refusedBeforeCache(DenialReason)
        case cached(TokenStatus)
    }

    fileprivate let outcome: Outcome
}

extension InboundAuthenticator {
    /// The `Authorization` header's verdict when it can be given now; nil when deciding could wait
    /// (a cache miss) or needs the request's proof (a DPoP proof, a token bound to a key or
    /// certificate). The cache hit is counted only when `decide` uses it.
    package func settled(authorization values: [String]) -> SettledToken? {
        switch BearerToken.extractWithScheme(fromAuthorization: values) {
        case .failure(let reason):
            return SettledToken(outcome: .refused(reason))
        case .success((_, .dpop)):
            return nil
        case .success((let token, .bearer)):
            return settled(token: token)
        }
    }

    /// The same for a token presented as a bearer token in a body (MockForge's `credentials`).
    package func settled(token: String) -> SettledToken? {
        if let reason = refusalBeforeLookup(token) { return SettledToken(outcome: .refusedBeforeCache(reason)) }
        guard let status = cache.lookup(TokenKey(token: token), counting: false) else {
            return BearerToken.isWellFormed(token) ? nil : SettledToken(outcome: .refusedBeforeCache(.malformed))
        }
        if case .active(let principal, _) = status, principal.claims.binding != nil { return nil }
        return SettledToken(outcome: .cached(status))
    }

    /// The decision for a settled token against a route's requirement, recorded (unless the caller
    /// records the request's outcome itself) and traced exactly as `authenticate` records and traces
    /// the same token.
    package func decide(_ settled: SettledToken, requirement: RouteRequirement, recording: Bool = true) -> Decision {
        let decision = verdict(of: settled, requirement: requirement)
        note(settled, decision, recording: recording)
        return decision
    }

    /// The decision alone, nothing counted, recorded or traced: for a caller that may yet give up
    /// and go the way that waits, which leaves no trace then. `note` it once it is the answer.
    package func verdict(of settled: SettledToken, requirement: RouteRequirement) -> Decision {
        switch settled.outcome {
        case .refused(let reason), .refusedBeforeCache(let reason):
            return Decision(verdict: .denied(reason))
        case .cached(let status):
            var decision = apply(status, requirement: requirement)
            decision.fromCache = true
            return decision
        }
    }

    /// Counts the cache hit, records (unless `recording` is false) and traces a decision
    /// `verdict(of:)` gave, as `authenticate` does for the same token.
    package func note(_ settled: SettledToken, _ decision: Decision, recording: Bool = true) {
        let lookup: CacheLookup
        switch settled.outcome {
        case .refused:
            // Refused before any token was at hand: `authenticate` is never called, so no span.
            if recording { recorder.record(decision) }
            return
        case .refusedBeforeCache:
            lookup = .skipped
        case .cached(let status):
            cache.countHit(status)
            lookup = .hit
        }
        if recording { recorder.record(decision) }
        if let span = InternalSpan.start("tollgate.decision") { Self.end(span, decision, lookup: lookup) }
    }
}
