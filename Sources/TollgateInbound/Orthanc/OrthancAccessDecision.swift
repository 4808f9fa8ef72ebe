/// The authorization plugin's decision, made by Tollgate for an Orthanc that has no plugin (1.10,
/// through the shipped Python filter): the permission table names what the route needs, a
/// profile holding one passes (labels permitting); otherwise a share token must cover the
/// resource; anything else is denied.
package struct OrthancAccessDecision: Sendable {
    package struct Request: Sendable {
        package var method: String
        package var uri: String
        package var getArguments: [String: String]
        /// Token values, `Bearer ` removed; empty: anonymous.
        package var tokens: [String]
        /// Resources the caller resolved (a series' parent study), deepest first.
        package var resources: [OrthancResource]
        /// The resource's labels, when the caller knows them (Orthanc ≥ 1.12).
        package var labels: [String]?
        package var serverID: String?

        package init(
            method: String, uri: String, getArguments: [String: String] = [:], tokens: [String], resources: [OrthancResource] = [],
            labels: [String]? = nil, serverID: String? = nil
        ) {
            self.method = method
            self.uri = uri
            self.getArguments = getArguments
            self.tokens = tokens
            self.resources = resources
            self.labels = labels
            self.serverID = serverID
        }
    }

    package struct Outcome: Sendable {
        package var granted: Bool
        /// Seconds the caller may cache this answer (0: not at all).
        package var validity: Int
        /// Why, in words safe to log: no token or claim appears here.
        package var reason: String
        /// The same as a decision, for metrics and the access log: allowed, or why not.
        package var decision: Decision
        /// The permission that granted the route (one of those it needs), when a profile did.
        package var permission: String?
        /// Whose profile decided: the token's subject, else its display name; nil for no token or a share token.
        package var user: String?
        /// The resource the URI names, deepest first (what a share token had to cover).
        package var resource: OrthancResource?
    }

    private let authenticator: InboundAuthenticator
    private let profiles: OrthancProfiles
    private let shareTokens: ShareTokens
    private let table: PermissionTable
    private let dicomWebRoot: String

    package init(authenticator: InboundAuthenticator, profiles: OrthancProfiles, shareTokens: ShareTokens, table: PermissionTable, dicomWebRoot: String) {
        self.authenticator = authenticator
        self.profiles = profiles
        self.shareTokens = shareTokens
        self.table = table
        self.dicomWebRoot = dicomWebRoot
    }

    package func decide(_ request: Request) async -> Outcome {
        let asked = asked(request)
        var facts = Facts()
        while true {
            switch step(asked, facts) {
            case .decided(let outcome, let recorded):
                return recorded ? finished(outcome) : outcome
            case .needsDecision(let index):
                // Recorded once, as the route's outcome: a valid token refused here is a denial.
                facts.decisions.append(await authenticator.authenticate(token: request.tokens[index], requirement: .none, recording: false))
            case .needsInspection(let index):
                facts.inspections[index] = await shareTokens.inspect(request.tokens[index])
            }
        }
    }

    /// An outcome reached without waiting, before anything about it is counted or recorded.
    package struct SettledAccess: Sendable {
        fileprivate let outcome: Outcome
        fileprivate let recorded: Bool
        fileprivate let consulted: [(SettledToken, Decision)]
    }

    /// The outcome when every fact it needs is settled (tokens refused for their shape or cached
    /// unbound, share tokens verified before); nil when one is not. Nothing is counted, traced or
    /// recorded until `decide(_:)` is given it, so giving up leaves no trace.
    package func settled(_ request: Request) -> SettledAccess? {
        let asked = asked(request)
        var facts = Facts()
        var consulted: [SettledToken] = []
        while true {
            switch step(asked, facts) {
            case .decided(let outcome, let recorded):
                return SettledAccess(outcome: outcome, recorded: recorded, consulted: Array(zip(consulted, facts.decisions)))
            case .needsDecision(let index):
                guard let settled = authenticator.settled(token: request.tokens[index]) else { return nil }
                consulted.append(settled)
                facts.decisions.append(authenticator.verdict(of: settled, requirement: .none))
            case .needsInspection(let index):
                guard let inspection = shareTokens.settledInspection(request.tokens[index]) else { return nil }
                facts.inspections[index] = inspection
            }
        }
    }

    /// A settled outcome, its tokens' decisions counted and traced and the outcome recorded, as
    /// `decide(_:)` does for the same request.
    package func decide(_ settled: SettledAccess) -> Outcome {
        for (token, decision) in settled.consulted { authenticator.note(token, decision, recording: false) }
        return settled.recorded ? finished(settled.outcome) : settled.outcome
    }

    /// The request read once: the permission table's rule for it and the resources its URI names.
    private struct Asked {
        let request: Request
        let method: String
        let chain: [OrthancResource]
        let match: PermissionTable.Match?
    }

    /// What is known so far of the request's tokens, in their order: their decisions, and the
    /// share-token inspections asked for.
    private struct Facts {
        var decisions: [Decision] = []
        var inspections: [Int: ShareTokens.Inspection] = [:]
    }

    private enum Step {
        /// `recorded` false: the route needs no permission, which is no decision about anyone's token.
        case decided(Outcome, recorded: Bool = true)
        case needsDecision(Int)
        case needsInspection(Int)
    }

    private func asked(_ request: Request) -> Asked {
        let method = request.method.lowercased()
        let chain = request.resources + OrthancResourceAccess.chain(uri: request.uri, getArguments: request.getArguments, dicomWebRoot: dicomWebRoot)
        return Asked(request: request, method: method, chain: chain, match: table.required(method: method, uri: request.uri))
    }

    /// The outcome from the facts at hand, or the next fact it needs: every token's decision when
    /// the route needs a permission, then share-token inspections, one at a time, until one grants.
    private func step(_ asked: Asked, _ facts: Facts) -> Step {
        let tokens = asked.request.tokens
        var outcome = Outcome(granted: false, validity: 0, reason: "", decision: Decision(verdict: .denied(.permission)), resource: asked.chain.first)
        var undecided: IndeterminateReason?
        var refusalValidity = Int(min(authenticator.cache.negativeTTL, Double(OrthancWebServiceDecision.validityCapSeconds)))
        if let match = asked.match {
            if match.permissions.isEmpty {
                outcome.grant(validity: OrthancWebServiceDecision.validityCapSeconds, reason: "route needs no permission")
                return .decided(outcome, recorded: false)
            }
            guard facts.decisions.count == tokens.count else { return .needsDecision(facts.decisions.count) }
            var candidates: [(profile: OrthancProfile, issuer: String?)] = []
            if tokens.isEmpty {
                candidates.append((profiles.anonymous, nil))
            }
            for (token, decision) in zip(tokens, facts.decisions) {
                switch decision.verdict {
                case .indeterminate(let reason): undecided = reason
                case .denied: break
                case .allowed:
                    let validity = authenticator.validitySeconds(of: decision, token: token)
                    candidates.append((profiles.profile(of: decision.principal?.claims ?? TokenClaims(), validity: validity), decision.issuer))
                }
            }
            let needed = match.permissions.joined(separator: "|")
            if let (profile, issuer) = candidates.first(where: { $0.profile.holdsAny(of: match.permissions) }) {
                outcome.user = profile.userID ?? profile.name
                outcome.permission = match.permissions.first(where: profile.permissions.contains)
                if let labels = asked.request.labels, !profile.maySee(labels: labels) {
                    outcome.deny(.labels, validity: profile.validity, reason: "labels not authorized", issuer: issuer)
                } else {
                    outcome.grant(validity: profile.validity, reason: "profile holds \(needed)", issuer: issuer)
                }
                return .decided(outcome)
            }
            outcome.user = candidates.first.flatMap { $0.issuer == nil ? nil : ($0.profile.userID ?? $0.profile.name) }
            refusalValidity = min(refusalValidity, candidates.map(\.profile.validity).min() ?? refusalValidity)
        }
        if !asked.chain.isEmpty {
            for index in tokens.indices {
                guard let inspection = facts.inspections[index] else { return .needsInspection(index) }
                if shareTokens.grants(inspection, method: asked.method, accessChain: asked.chain, serverID: asked.request.serverID) {
                    outcome.grant(
                        validity: shareTokens.secondsLeft(inspection, cap: OrthancWebServiceDecision.validityCapSeconds),
                        reason: "share token covers the resource")
                    return .decided(outcome)
                }
            }
        }
        if let undecided {
            outcome.granted = false
            outcome.validity = 0
            outcome.reason = "the identity provider could not be asked"
            outcome.decision = Decision(verdict: .indeterminate(undecided))
            return .decided(outcome)
        }
        outcome.deny(.permission, validity: max(0, refusalValidity), reason: "no permission and no share token for this route")
        return .decided(outcome)
    }

    private func finished(_ outcome: Outcome) -> Outcome {
        authenticator.record(outcome.decision)
        return outcome
    }
}

extension OrthancAccessDecision.Outcome {
    mutating func grant(validity: Int, reason: String, issuer: String? = nil) {
        granted = true
        self.validity = validity
        self.reason = reason
        decision = Decision(verdict: .allowed, issuer: issuer)
    }

    mutating func deny(_ why: DenialReason, validity: Int, reason: String, issuer: String? = nil) {
        granted = false
        self.validity = validity
        self.reason = reason
        decision = Decision(verdict: .denied(why), issuer: issuer)
    }
}
