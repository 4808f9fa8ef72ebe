import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit

/// Forward authentication for reverse proxies: nginx `auth_request`, ingress-nginx `auth-url`,
/// Traefik ForwardAuth, Caddy `forward_auth` and Envoy ext_authz (HTTP). Any method on `/auth` or
/// below it; 200 with identity headers when the bearer token passes the issuer's policy, the
/// first rule matching the guarded request and the auth URL's own constraints; RFC 6750 answers
/// otherwise. Facts that cannot be trusted or read are refused before any token is looked at.
struct ForwardAuthAdapter {
    typealias HeaderMap = [(claim: String, header: HTTPField.Name)]

    let authenticator: InboundAuthenticator
    let rules: AccessRules
    let reader: ForwardedRequestReader
    /// Claim → header, parsed once (config validation guarantees the names are valid).
    let identityHeaders: HeaderMap
    /// The same for each rule (its own map, else the global one), by rule index.
    let ruleHeaders: [HeaderMap]
    let requiredScopesHeader: HTTPField.Name?
    let groupsClaim: String
    let statuses: BearerChallenge.Statuses
    /// One warning per peer and kind of refusal per minute: the operator must see each one.
    let warnings: WarningThrottle
    /// `forward_auth.client_certificate`: the client's certificate as a trusted proxy forwards it.
    let forwardedCertificate: ForwardedCertificate?

    init(authenticator: InboundAuthenticator, rules: AccessRules, config: ForwardAuthConfig, clock: any TollgateClock) {
        statuses = BearerChallenge.Statuses(
            unavailable: HTTPResponse.Status(code: config.statusOnUnavailable),
            malformed: HTTPResponse.Status(code: config.statusOnMalformed))
        self.authenticator = authenticator
        self.rules = rules
        let trustedProxies = config.trustedProxies.compactMap(IPNetwork.init)
        reader = ForwardedRequestReader(proxy: config.proxy, trustedProxies: trustedProxies, readsHost: rules.readsHost)
        forwardedCertificate = ForwardedCertificate(config: config.clientCertificate, trustedProxies: trustedProxies)
        identityHeaders = Self.headerMap(config.claimsToHeaders.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let global = identityHeaders
        ruleHeaders = rules.rules.map { rule in rule.claimsToHeaders.map(Self.headerMap) ?? global }
        requiredScopesHeader = HTTPField.Name(config.requiredScopesHeader)
        groupsClaim = config.groupsClaim
        warnings = WarningThrottle(clock: clock)
    }

    private static func headerMap(_ pairs: [(claim: String, header: String)]) -> HeaderMap {
        pairs.compactMap { claim, header in HTTPField.Name(header).map { (claim, $0) } }
    }

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        for method in Self.methods {
            router.on("/auth", method: method) { request, context in await authorize(request, context) }
            router.on("/auth/**", method: method) { request, context in await authorize(request, context) }
        }
    }

    /// Where a request stands once everything but its token is decided.
    enum Step {
        case answered(Answer)
        /// The token decides, against this requirement; these claims become headers when it passes.
        case token(RouteRequirement, headers: HeaderMap)
    }

    func authorize(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        switch prepare(request, context) {
        case .answered(let answer):
            return answer.response
        case .token(let requirement, let headers):
            // The connection's own certificate is the proxy's: only a forwarded one is the client's.
            let certificate = forwardedCertificate?.thumbprint(request, peer: context.peerAddress)
            let decision = await authenticator.authenticate(
                request, context: context, requirement: requirement, proofTarget: { reader.proofTarget(request, peer: context.peerAddress) },
                certificate: { certificate })
            return answer(decision, headers: headers).response
        }
    }

    /// The same answer without waiting, for a token already settled (the event-loop path).
    func authorize(_ request: Request, _ context: TollgateRequestContext, settled: SettledToken) -> Answer {
        switch prepare(request, context) {
        case .answered(let answer):
            return answer
        case .token(let requirement, let headers):
            return answer(authenticator.decide(settled, requirement: requirement, context: context), headers: headers)
        }
    }

    /// Everything before the token: the guarded request's facts, the auth URL's constraints and the rules.
    private func prepare(_ request: Request, _ context: TollgateRequestContext) -> Step {
        var facts: RequestFacts?
        var factsFromPath: Bool?
        context.noteAudit(.forwardAuth)
        if !rules.isEmpty {
            switch reader.read(request, peer: context.peerAddress) {
            case .facts(let read, let fromPath):
                facts = read
                factsFromPath = fromPath
                context.noteGuarded(read)
            case .undescribed:
                break
            case .untrusted:
                return refuse(
                    .untrustedProxy, context,
                    warning:
                        "it sent forwarded request headers and is not in forward_auth.trusted_proxies. Add the proxy's address or network to forward_auth.trusted_proxies"
                )
            case .conflicting(let problem):
                return refuse(.conflictingFacts, context, warning: "the forwarded request headers are inconsistent (\(problem))", description: problem)
            case .ambiguous(let problem):
                return refuse(.ambiguousPath, context, warning: "the guarded path has \(problem), which a backend could read differently")
            }
        }
        let constraints: AuthURLConstraints
        do throws(AuthURLConstraints.Refusal) {
            constraints = try authURLConstraints(request, factsFromPath: factsFromPath)
        } catch {
            return refuse(.unknownConstraint, context, warning: error.reason, description: error.reason)
        }
        if rules.isEmpty, context.isAuditing, case .facts(let read, _) = reader.read(request, peer: context.peerAddress) {
            // Without rules the guarded request decides nothing, but the audit record still names it.
            context.noteGuarded(read)
        }
        guard !rules.isEmpty else { return tokenStep(request, requirement: .none, constraints: constraints, headers: identityHeaders) }
        switch rules.verdict(for: facts) {
        case .refused(.unknownRequest, let why):
            return refuse(
                .unknownRequest, context,
                warning:
                    "the rules cannot be applied: \(why). Configure the proxy to send the guarded request's method, URI and host (forward_auth.proxy says which headers are read)"
            )
        case .refused(let reason, _):
            return refuse(reason, context)
        case .anonymous(let rule):
            // As oauth2-proxy's skipped routes: an anonymous rule passes whatever the auth URL asks of a token.
            context.noteRule(rule.name)
            context.noteDecision(Decision(verdict: .allowed))
            return .answered(Answer(status: .ok, headers: [.cacheControl: "no-store"]))
        case .token(let requirement, let rule):
            context.noteRule(rule?.name)
            let headers = rule.map { ruleHeaders[$0.index] } ?? identityHeaders
            return tokenStep(request, requirement: requirement, constraints: constraints, headers: headers)
        }
    }

    /// The auth URL's constraints when its query string is the operator's, never the guarded request's own.
    private func authURLConstraints(_ request: Request, factsFromPath: Bool?) throws(AuthURLConstraints.Refusal) -> AuthURLConstraints {
        guard let query = request.uri.query, !query.isEmpty, reader.queryIsOperators(request, factsFromPath: factsFromPath) else { return .none }
        return try AuthURLConstraints(query: query[...])
    }

    /// A refusal made before any token was looked at, with a throttled warning naming the peer.
    private func refuse(_ reason: DenialReason, _ context: TollgateRequestContext, warning: String? = nil, description: String? = nil) -> Step {
        if let alert = Self.securityAction[reason] { context.noteAudit(alert) { $0.reason = description ?? reason.rawValue } }
        if let warning {
            let peer = context.peerAddress?.ipAddress ?? "unknown"
            if warnings.allows("\(reason.rawValue) \(peer)") {
                context.logger.warning(
                    "forward auth refused a request from \(peer): \(warning)", metadata: ["peer": .string(peer), "reason": .string(reason.rawValue)])
            }
        }
        return .answered(BearerChallenge.answer(for: authenticator.refuse(reason, context: context), statuses: statuses, description: description))
    }

    /// What the proxy adds per route to the rule's requirement: `X-Required-Scopes` and the auth URL's constraints.
    private func tokenStep(_ request: Request, requirement: RouteRequirement, constraints: AuthURLConstraints, headers: HeaderMap) -> Step {
        var requirement = constraints.applied(to: requirement, groupsClaim: groupsClaim)
        if let name = requiredScopesHeader, let value = request.headers[name] {
            requirement = requirement.adding(scopes: Self.split(value[...]))
        }
        return .token(requirement, headers: headers)
    }

    /// The decision's answer: a passing token's claims as identity headers, RFC 6750 otherwise.
    private func answer(_ decision: Decision, headers: HeaderMap) -> Answer {
        guard decision.isAllowed, let principal = decision.principal else { return BearerChallenge.answer(for: decision, statuses: statuses) }
        var answer = Answer(status: .ok, headers: [.cacheControl: "no-store"])
        answer.headers[.dpopNonce] = decision.dpopNonce
        for (claim, name) in headers {
            guard let value = principal.headerValue(ofClaim: claim, issuer: decision.issuer), HeaderRules.isSafeValue(value) else { continue }
            answer.headers[name] = value
        }
        return answer
    }

    /// Refusals an operator must see as security events, not as one more denied token.
    static let securityAction: [DenialReason: AuditAction] = [
        .untrustedProxy: .untrustedProxy, .ambiguousPath: .ambiguousPath, .conflictingFacts: .conflictingFacts,
        .unknownConstraint: .unknownConstraint,
    ]

    private static func split(_ value: Substring) -> [String] {
        value.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }
}
