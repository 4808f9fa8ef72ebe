/// The official authorization plugin's web-service questions (`/tokens/validate`,
/// `/user/get-profile`), decided here so that the Server adapter only reads the plugin's body and
/// writes its answer. The plugin asks for a user's profile first and, when the profile does not
/// grant the route, whether the token itself (a share link's) covers the resource.
package struct OrthancWebServiceDecision: Sendable {
    /// The longest the plugin may cache an answer about a share token or a refusal.
    package static let validityCapSeconds = 60

    private let authenticator: InboundAuthenticator
    private let profiles: OrthancProfiles
    private let shareTokens: ShareTokens

    package init(authenticator: InboundAuthenticator, profiles: OrthancProfiles, shareTokens: ShareTokens) {
        self.authenticator = authenticator
        self.profiles = profiles
        self.shareTokens = shareTokens
    }

    package struct Validation: Sendable {
        package var granted: Bool
        /// Seconds the plugin may cache the answer.
        package var validity: Int
        /// For metrics and the access log; nil when no token was presented.
        package var decision: Decision?
        /// The resource asked about, when the question named one.
        package var resource: OrthancResource?
        /// The token was looked at as a share token and is not one of ours (forged, or signed by another key).
        package var shareTokenInvalid = false
    }

    /// The plugin's `/tokens/validate` question.
    package struct ValidationQuestion: Sendable {
        package var token: String?
        package var method: String
        package var level: String
        package var dicomUID: String?
        package var orthancID: String?
        package var serverID: String?

        package init(token: String?, method: String, level: String, dicomUID: String?, orthancID: String?, serverID: String?) {
            self.token = token
            self.method = method
            self.level = level
            self.dicomUID = dicomUID
            self.orthancID = orthancID
            self.serverID = serverID
        }

        /// The resource asked about; nil for a question about the whole system or naming no resource.
        var resource: OrthancResource? {
            let resource = OrthancResource(
                level: level, dicomUID: dicomUID.flatMap { $0.isEmpty ? nil : $0 }, orthancID: orthancID.flatMap { $0.isEmpty ? nil : $0 })
            guard level != "system", resource.dicomUID != nil || resource.orthancID != nil else { return nil }
            return resource
        }
    }

    /// Whether the question's token (a share token: a user's token was answered through its profile)
    /// lets its method reach the resource. A question about the whole system, or naming no resource, is no.
    package func validate(_ question: ValidationQuestion) async -> Validation {
        guard let token = question.token, let resource = question.resource else { return Self.refused }
        return validation(question, resource, await shareTokens.inspect(token))
    }

    /// The same answer when it needs no wait (no share token to verify first); nil otherwise.
    package func settledValidation(_ question: ValidationQuestion) -> Validation? {
        guard let token = question.token, let resource = question.resource else { return Self.refused }
        return shareTokens.settledInspection(token).map { validation(question, resource, $0) }
    }

    private static let refused = Validation(granted: false, validity: validityCapSeconds, decision: nil, resource: nil)

    private func validation(_ question: ValidationQuestion, _ resource: OrthancResource, _ inspection: ShareTokens.Inspection) -> Validation {
        let granted = shareTokens.grants(inspection, method: question.method, accessChain: [resource], serverID: question.serverID)
        var validation = Validation(
            granted: granted,
            validity: granted ? shareTokens.secondsLeft(inspection, cap: Self.validityCapSeconds) : Self.validityCapSeconds,
            decision: Decision(verdict: granted ? .allowed : .denied(.permission)), resource: resource)
        validation.shareTokenInvalid = inspection == .invalid
        return validation
    }

    package enum ProfileAnswer: Sendable {
        /// The profile to send; `decision` is nil when no token was presented.
        case profile(OrthancProfile, decision: Decision?)
        /// The issuer could not be asked: the plugin must not cache a guess.
        case indeterminate(Decision, reason: String)
    }

    /// The profile of the token's user: its roles' permissions and labels when the issuer vouches for
    /// it, no more than anonymous when it does not (a share token, an unknown token), anonymous without one.
    package func profile(token: String?) async -> ProfileAnswer {
        guard let token else { return .profile(profiles.anonymous, decision: nil) }
        return profile(await authenticator.authenticate(token: token), token: token)
    }

    /// A profile question whose token's verdict is settled, before anything is counted or recorded.
    package struct SettledProfileQuestion: Sendable {
        fileprivate let token: (value: String, settled: SettledToken)?
    }

    /// The question when its answer needs no wait (see `InboundAuthenticator.settled`); nil otherwise.
    package func settledProfile(token: String?) -> SettledProfileQuestion? {
        guard let token else { return SettledProfileQuestion(token: nil) }
        return authenticator.settled(token: token).map { SettledProfileQuestion(token: (token, $0)) }
    }

    /// The answer to a settled question, decided, counted and recorded as `profile(token:)` does.
    package func profile(_ question: SettledProfileQuestion) -> ProfileAnswer {
        guard let (token, settled) = question.token else { return .profile(profiles.anonymous, decision: nil) }
        return profile(authenticator.decide(settled, requirement: .none), token: token)
    }

    private func profile(_ decision: Decision, token: String) -> ProfileAnswer {
        let validity = authenticator.validitySeconds(of: decision, token: token)
        switch decision.verdict {
        case .indeterminate(let reason):
            return .indeterminate(decision, reason: reason.message)
        case .denied:
            var anonymous = profiles.anonymous
            anonymous.validity = min(anonymous.validity, validity)
            return .profile(anonymous, decision: decision)
        case .allowed:
            return .profile(profiles.profile(of: decision.principal?.claims ?? TokenClaims(), validity: validity), decision: decision)
        }
    }

    /// A user seen recently (the plugin's user-id question), here or on another replica.
    package func knownUser(_ userID: String) async -> OrthancProfile? {
        await profiles.knownUser(userID)
    }
}
