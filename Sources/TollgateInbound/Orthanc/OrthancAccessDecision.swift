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
        let method = request.method.lowercased()
        let chain = request.resources + OrthancResourceAccess.chain(uri: request.uri, getArguments: request.getArguments, dicomWebRoot: dicomWebRoot)
        var outcome = Outcome(granted: false, validity: 0, reason: "", decision: Decision(verdict: .denied(.permission)), resource: chain.first)
        var undecided: IndeterminateReason?
        var refusalValidity = Int(min(authenticator.cache.negativeTTL, Double(OrthancWebServiceDecision.validityCapSeconds)))
        if let match = table.required(method: method, uri: request.uri) {
            if match.permissions.isEmpty {
                outcome.grant(validity: OrthancWebServiceDecision.validityCapSeconds, reason: "route needs no permission")
                return outcome
            }
            var candidates: [(profile: OrthancProfile, issuer: String?)] = []
            if request.tokens.isEmpty {
                candidates.append((profiles.anonymous, nil))
            }
            for token in request.tokens {
                // Recorded once below, as the route's outcome: a valid token refused here is a denial.
                let decision = await authenticator.authenticate(token: token, requirement: .none, recording: false)
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
                if let labels = request.labels, !profile.maySee(labels: labels) {
                    outcome.deny(.labels, validity: profile.validity, reason: "labels not authorized", issuer: issuer)
                } else {
                    outcome.grant(validity: profile.validity, reason: "profile holds \(needed)", issuer: issuer)
                }
                return finished(outcome)
            }
            outcome.user = candidates.first.flatMap { $0.issuer == nil ? nil : ($0.profile.userID ?? $0.profile.name) }
            refusalValidity = min(refusalValidity, candidates.map(\.profile.validity).min() ?? refusalValidity)
        }
        if !chain.isEmpty {
            for token in request.tokens {
                let inspection = await shareTokens.inspect(token)
                if shareTokens.grants(inspection, method: method, accessChain: chain, serverID: request.serverID) {
                    outcome.grant(
                        validity: shareTokens.secondsLeft(inspection, cap: OrthancWebServiceDecision.validityCapSeconds),
                        reason: "share token covers the resource")
                    return finished(outcome)
                }
            }
        }
        if let undecided {
            outcome.granted = false
            outcome.validity = 0
            outcome.reason = "the identity provider could not be asked"
            outcome.decision = Decision(verdict: .indeterminate(undecided))
            return finished(outcome)
        }
        outcome.deny(.permission, validity: max(0, refusalValidity), reason: "no permission and no share token for this route")
        return finished(outcome)
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
