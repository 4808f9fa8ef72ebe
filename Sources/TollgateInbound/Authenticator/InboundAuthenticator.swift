package import TollgateConfiguration
package import TollgateKit
import Tracing

/// Decides whether a bearer token may pass: routing to an issuer, the decision cache with
/// single-flight, and per-request policy. Knows nothing of HTTP routes or wire formats.
package final class InboundAuthenticator: Sendable {
    package let issuers: [IssuerRuntime]
    package let cache: DecisionCache
    private let opaqueIssuer: IssuerRuntime?
    private let jwtIssuers: [String: IssuerRuntime]
    /// The largest token any issuer accepts; an issuer with a smaller limit checks its own once routed.
    let maxTokenBytes: Int
    private let clock: any TollgateClock
    let recorder: any DecisionRecorder
    private let claimPaths: ClaimPaths
    private let proofs: DPoPProofVerifier

    package init(
        issuers: [IssuerRuntime], opaqueIssuerIndex: Int?, cache: DecisionCache, clock: any TollgateClock, recorder: any DecisionRecorder,
        claimPaths: ClaimPaths = .none, dpop: DPoPConfig = DPoPConfig(), replayLedger: (any DPoPReplayLedger)? = nil,
        dpopNonces: DPoPNonces? = nil
    ) {
        self.claimPaths = claimPaths
        self.proofs = DPoPProofVerifier(settings: dpop, clock: clock, ledger: replayLedger, nonces: dpopNonces)
        self.issuers = issuers
        self.cache = cache
        self.opaqueIssuer = opaqueIssuerIndex.map { issuers[$0] }
        self.jwtIssuers = Dictionary(issuers.filter(\.verifiesJWTs).map { ($0.issuerURL, $0) }, uniquingKeysWith: { first, _ in first })
        self.maxTokenBytes = issuers.map(\.maxTokenBytes).max() ?? 8192
        self.clock = clock
        self.recorder = recorder
    }

    /// Decides and records. `extraScopes` are required on top of the issuer's own (forward-auth's
    /// per-route header); they are checked like any policy, on cached entries too.
    package func authenticate(token: String, extraScopes: [String] = [], presentation: TokenPresentation = .bearer) async -> Decision {
        await authenticate(token: token, requirement: RouteRequirement(scopes: extraScopes), presentation: presentation)
    }

    /// Decides against the issuer's policy and a route's requirement, and records, unless the
    /// caller records a decision of its own for the request (`recording: false`). A token bound to
    /// a key or certificate passes only with the proof `presentation` carries, checked on every
    /// request (only the token's own verdict is cached): as a bearer token it is refused.
    package func authenticate(
        token: String, requirement: RouteRequirement, presentation: TokenPresentation = .bearer, recording: Bool = true
    ) async -> Decision {
        var lookup = CacheLookup.skipped
        guard let span = InternalSpan.start("tollgate.decision") else {
            let decision = await decide(token: token, requirement: requirement, presentation: presentation, lookup: &lookup)
            if recording { recorder.record(decision) }
            return decision
        }
        // The span is the current one while deciding: introspection, JWKS and userinfo calls are its children.
        let decision = await InstrumentationContext.$current.withValue(span.context) {
            await decide(token: token, requirement: requirement, presentation: presentation, lookup: &lookup)
        }
        if recording { recorder.record(decision) }
        Self.end(span, decision, lookup: lookup)
        return decision
    }

    static func end(_ span: any Span, _ decision: Decision, lookup: CacheLookup) {
        span.updateAttributes { attributes in
            attributes["tollgate.cache"] = lookup.rawValue
            attributes["tollgate.issuer"] = decision.issuer ?? "none"
            attributes["tollgate.result"] = decision.verdict.label
            attributes["tollgate.reason"] = decision.reasonLabel
        }
        if case .indeterminate = decision.verdict { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    /// Whether a decision came from the cache, for its trace span.
    enum CacheLookup: String {
        case hit, miss
        /// Refused before the cache: no token, too large, malformed.
        case skipped
    }

    /// How long a caller that caches `decision` itself (Orthanc's authorization plugin, the filter)
    /// may keep it: never past the cache entry behind it, a refusal never past negative_ttl (a token
    /// refused by policy alone may sit in the cache as an active entry), and nothing undecided.
    /// `refusedByCaller`: the caller refuses an allowed token itself (a missing permission), which
    /// is a refusal like any other.
    package func validitySeconds(of decision: Decision, token: String, refusedByCaller: Bool = false) -> Int {
        let cached = cache.secondsLeft(TokenKey(token: token))
        switch decision.verdict {
        case .allowed where !refusedByCaller: return Int(cached.rounded(.down))
        case .allowed: return Int(min(cached, cache.negativeTTL).rounded(.down))
        case .denied: return Int(min(cached, cache.negativeTTL).rounded(.down))
        case .indeterminate: return 0
        }
    }

    /// Records a refusal decided before any token was at hand (no token, wrong scheme).
    package func refuse(_ reason: DenialReason) -> Decision {
        let decision = Decision(verdict: .denied(reason))
        recorder.record(decision)
        return decision
    }

    /// Records a decision a caller made about a whole request (an Orthanc route's outcome).
    package func record(_ decision: Decision) {
        recorder.record(decision)
    }

    private func decide(token: String, requirement: RouteRequirement, presentation: TokenPresentation, lookup: inout CacheLookup) async -> Decision {
        if let refusal = refusalBeforeLookup(token) { return Decision(verdict: .denied(refusal)) }
        let length = token.utf8.count
        let key = TokenKey(token: token)
        let status: TokenStatus
        if let cached = cache.lookup(key) {
            lookup = .hit
            status = cached
        } else {
            guard BearerToken.isWellFormed(token) else { return Decision(verdict: .denied(.malformed)) }
            lookup = .miss
            status = await cache.load(key) { await self.route(token, length: length) }
        }
        if case .active(let principal, let index) = status,
            var refusal = await bindingRefusal(principal, issuer: issuers[index], token: token, presentation: presentation)
        {
            refusal.fromCache = lookup == .hit
            return refusal
        }
        var decision = apply(status, requirement: requirement)
        decision.fromCache = lookup == .hit
        // RFC 9449 §9: a fresh nonce may ride on any answer to a DPoP request.
        if presentation.scheme == .dpop { decision.dpopNonce = proofs.nonces?.current() }
        return decision
    }

    /// A token refused for its length, before the cache is asked. Its characters are checked on a
    /// miss only: a token found in the cache is the very token that passed that check to get there.
    func refusalBeforeLookup(_ token: String) -> DenialReason? {
        let length = token.utf8.count
        guard length > 0 else { return .missingToken }
        guard length <= maxTokenBytes else { return .tooLarge }
        return nil
    }

    /// The refusal when the token's binding (`cnf`) is not proven by this request; nil when the
    /// token is unbound and presented as a bearer token, or its binding holds.
    private func bindingRefusal(_ principal: Principal, issuer: IssuerRuntime, token: String, presentation: TokenPresentation) async -> Decision? {
        let binding = principal.claims.binding
        guard binding != nil || presentation.scheme == .dpop else { return nil }
        let algorithms = issuer.algorithms.map(\.rawValue)
        func refuse(_ reason: DenialReason, _ detail: String? = nil, challenge: Bool = true) -> Decision {
            var decision = Decision(verdict: .denied(reason), principal: principal, issuer: issuer.name)
            decision.dpopAlgorithms = challenge ? algorithms : []
            decision.dpopNonce = challenge ? proofs.nonces?.current() : nil
            decision.detail = detail
            return decision
        }
        func undecided(_ detail: String) -> Decision {
            var decision = Decision(verdict: .indeterminate(.replayCacheFull), issuer: issuer.name)
            decision.detail = detail
            return decision
        }
        if let unsupported = binding?.unsupported {
            return refuse(.unsupportedBinding, "\(unsupported) is not a confirmation method Tollgate checks", challenge: false)
        }
        switch (presentation.scheme, binding?.keyThumbprint) {
        case (.bearer, nil):
            break
        case (.bearer, .some):
            return refuse(.boundTokenAsBearer, "cnf.jkt")
        case (.dpop, nil):
            return refuse(.bindingMismatch, "the token is not bound to a DPoP key")
        case (.dpop, let thumbprint?):
            switch await proofs.check(presentation, token: token, boundTo: thumbprint, algorithms: issuer.algorithms) {
            case nil: break
            case .invalid(let why)?: return refuse(.invalidDPoPProof, why)
            case .replayed?: return refuse(.dpopReplay, "jti seen before")
            case .keyMismatch?: return refuse(.bindingMismatch, "the proof's key is not the token's cnf.jkt")
            case .nonceRequired?: return refuse(.useDPoPNonce, "the proof has no nonce, or one no longer current")
            case .replayCacheFull?: return undecided("inbound.dpop.replay_cache_entries are all live")
            case .replayLedgerUnavailable?: return undecided("the registry's shared store, where replicas record DPoP proofs, cannot be reached")
            }
        }
        if let certificate = binding?.certificateThumbprint {
            let presented = await presentation.certificate()
            if presented != certificate {
                return refuse(.certificateMismatch, presented == nil ? "no verified client certificate" : "another client certificate", challenge: false)
            }
        }
        return nil
    }

    /// JWTs naming a JWT-verifying issuer are checked locally; everything else (opaque tokens,
    /// JWTs of issuers that are only introspected) goes to the opaque-token issuer, if any.
    private func route(_ token: String, length: Int) async -> TokenStatus {
        var structural: DenialReason?
        do {
            let jws = try CompactJWS(token, claimPaths: claimPaths)
            if let iss = jws.payload.unverifiedIssuer, let issuer = jwtIssuers[iss] {
                guard length <= issuer.maxTokenBytes else { return .rejected(.tooLarge, issuer: issuer.index) }
                return await issuer.validateJWT(jws, token: token)
            }
        } catch .malformed {
            structural = .notJWT
        } catch {
            // Not three segments: an opaque token.
        }
        guard let issuer = opaqueIssuer else { return .rejected(structural ?? .unknownIssuer, issuer: nil) }
        guard length <= issuer.maxTokenBytes else { return .rejected(.tooLarge, issuer: issuer.index) }
        return await issuer.introspect(token)
    }

    func apply(_ status: TokenStatus, requirement: RouteRequirement) -> Decision {
        switch status {
        case .active(let principal, let index):
            let issuer = issuers[index]
            if let (reason, missing) = issuer.policy.violation(of: principal.claims, now: clock.now(), extraScopes: requirement.scopes)
                ?? requirement.violation(of: principal.claims, issuer: issuer.name)
            {
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
