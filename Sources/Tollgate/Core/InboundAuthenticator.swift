/// Records decisions and IdP calls (metrics, logs) without the core knowing how.
public protocol DecisionRecorder: Sendable {
    func record(_ decision: Decision)
    func recordIntrospection(issuer: String, outcome: String, seconds: Double)
}

/// Decides whether a bearer token may pass: routing to an issuer, the decision cache with
/// single-flight, and per-request policy. Knows nothing of HTTP routes or wire formats.
public final class InboundAuthenticator: Sendable {
    public let issuers: [IssuerRuntime]
    public let cache: DecisionCache
    private let opaqueIssuer: IssuerRuntime?
    private let clock: any TollgateClock
    private let recorder: any DecisionRecorder

    public init(issuers: [IssuerRuntime], opaqueIssuerIndex: Int?, cache: DecisionCache, clock: any TollgateClock, recorder: any DecisionRecorder) {
        self.issuers = issuers
        self.cache = cache
        self.opaqueIssuer = opaqueIssuerIndex.map { issuers[$0] }
        self.clock = clock
        self.recorder = recorder
    }

    public func authenticate(token: String) async -> Decision {
        let decision = await decide(token: token)
        recorder.record(decision)
        return decision
    }

    /// Records a refusal decided before any token was at hand (no token, wrong scheme).
    public func refuse(_ reason: DenialReason) -> Decision {
        let decision = Decision(verdict: .denied(reason))
        recorder.record(decision)
        return decision
    }

    private func decide(token: String) async -> Decision {
        guard !token.isEmpty else { return Decision(verdict: .denied(.missingToken)) }
        guard let issuer = opaqueIssuer else { return Decision(verdict: .denied(.unknownIssuer)) }
        guard token.utf8.count <= issuer.maxTokenBytes else { return Decision(verdict: .denied(.tooLarge), issuer: issuer.name) }
        guard BearerToken.isWellFormed(token) else { return Decision(verdict: .denied(.malformed), issuer: issuer.name) }

        let key = TokenKey(token: token)
        let status: TokenStatus
        if let cached = cache.lookup(key) {
            status = cached
        } else {
            status = await cache.load(key) { await issuer.validate(token) }
        }
        return apply(status)
    }

    private func apply(_ status: TokenStatus) -> Decision {
        switch status {
        case .active(let principal, let index):
            let issuer = issuers[index]
            if let (reason, missing) = issuer.policy.violation(of: principal.claims, now: clock.now()) {
                return Decision(verdict: .denied(reason), principal: principal, missingScopes: missing, issuer: issuer.name)
            }
            return Decision(verdict: .allowed, principal: principal, issuer: issuer.name)
        case .rejected(let reason, let index):
            return Decision(verdict: .denied(reason), issuer: index.map { issuers[$0].name })
        case .indeterminate(let reason, let index):
            return Decision(verdict: .indeterminate(reason), issuer: index.map { issuers[$0].name })
        }
    }
}
