/// The authorization plugin's decision, made by Tollgate for an Orthanc that has no plugin (1.10,
/// through the shipped Python filter): the permission table names what the route needs, a
/// profile holding one passes (labels permitting); otherwise a share token must cover the
/// resource; anything else is denied.
public struct OrthancAccessDecision: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var getArguments: [String: String]
        /// Token values, `Bearer ` removed; empty: anonymous.
        public var tokens: [String]
        /// Resources the caller resolved (a series' parent study), deepest first.
        public var resources: [OrthancResource]
        /// The resource's labels, when the caller knows them (Orthanc ≥ 1.12).
        public var labels: [String]?
        public var serverID: String?

        public init(method: String, uri: String, getArguments: [String: String] = [:], tokens: [String], resources: [OrthancResource] = [],
                    labels: [String]? = nil, serverID: String? = nil) {
            self.method = method
            self.uri = uri
            self.getArguments = getArguments
            self.tokens = tokens
            self.resources = resources
            self.labels = labels
            self.serverID = serverID
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var granted: Bool
        /// Seconds the caller may cache this answer (0: not at all).
        public var validity: Int
        /// Why, in words safe to log: no token or claim appears here.
        public var reason: String
    }

    private let authenticator: InboundAuthenticator
    private let profiles: OrthancProfiles
    private let shareTokens: ShareTokens
    private let table: PermissionTable
    private let dicomWebRoot: String
    static let shareValidityCap = 60

    public init(authenticator: InboundAuthenticator, profiles: OrthancProfiles, shareTokens: ShareTokens, table: PermissionTable, dicomWebRoot: String) {
        self.authenticator = authenticator
        self.profiles = profiles
        self.shareTokens = shareTokens
        self.table = table
        self.dicomWebRoot = dicomWebRoot
    }

    /// `decisions` receives every token decision made, for the caller's access log.
    public func decide(_ request: Request, decisions: (Decision) -> Void = { _ in }) async -> Outcome {
        let method = request.method.lowercased()
        var undecided = false
        var refusalValidity = Int(min(authenticator.cache.negativeTTL, Double(Self.shareValidityCap)))
        if let match = table.required(method: method, uri: request.uri) {
            if match.permissions.isEmpty { return Outcome(granted: true, validity: Self.shareValidityCap, reason: "route needs no permission") }
            var candidates: [OrthancProfile] = []
            if request.tokens.isEmpty {
                candidates.append(profiles.anonymous)
            }
            for token in request.tokens {
                let decision = await authenticator.authenticate(token: token)
                decisions(decision)
                switch decision.verdict {
                case .indeterminate: undecided = true
                case .denied: break
                case .allowed:
                    let validity = authenticator.validitySeconds(of: decision, token: token)
                    candidates.append(profiles.profile(of: decision.principal?.claims ?? TokenClaims(), validity: validity))
                }
            }
            let needed = match.permissions.joined(separator: "|")
            if let profile = candidates.first(where: { $0.holdsAny(of: match.permissions) }) {
                if let labels = request.labels, !profile.maySee(labels: labels) {
                    return Outcome(granted: false, validity: profile.validity, reason: "labels not authorized")
                }
                return Outcome(granted: true, validity: profile.validity, reason: "profile holds \(needed)")
            }
            refusalValidity = min(refusalValidity, candidates.map(\.validity).min() ?? refusalValidity)
        }
        let chain = request.resources + OrthancResourceAccess.chain(uri: request.uri, getArguments: request.getArguments, dicomWebRoot: dicomWebRoot)
        if !chain.isEmpty {
            for token in request.tokens {
                let inspection = await shareTokens.inspect(token)
                if shareTokens.grants(inspection, method: method, accessChain: chain, serverID: request.serverID) {
                    return Outcome(granted: true, validity: shareTokens.secondsLeft(inspection, cap: Self.shareValidityCap), reason: "share token covers the resource")
                }
            }
        }
        if undecided { return Outcome(granted: false, validity: 0, reason: "the identity provider could not be asked") }
        return Outcome(granted: false, validity: max(0, refusalValidity), reason: "no permission and no share token for this route")
    }
}
