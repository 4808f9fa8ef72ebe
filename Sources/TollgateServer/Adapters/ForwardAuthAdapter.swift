import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit

/// Forward authentication for reverse proxies: nginx `auth_request`, Traefik ForwardAuth and
/// Envoy ext_authz (HTTP). Any method on `/auth` or below it; 200 with identity headers when the
/// bearer token passes the issuer's policy and the first rule matching the forwarded request,
/// RFC 6750 answers otherwise.
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
    let statuses: BearerChallenge.Statuses

    init(authenticator: InboundAuthenticator, rules: AccessRules, config: ForwardAuthConfig) {
        statuses = BearerChallenge.Statuses(unavailable: HTTPResponse.Status(code: config.statusOnUnavailable),
                                            malformed: HTTPResponse.Status(code: config.statusOnMalformed))
        self.authenticator = authenticator
        self.rules = rules
        reader = ForwardedRequestReader(trustedProxies: config.trustedProxies.compactMap(IPNetwork.init), readsHost: rules.readsHost)
        identityHeaders = Self.headerMap(config.claimsToHeaders.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let global = identityHeaders
        ruleHeaders = rules.rules.map { rule in rule.claimsToHeaders.map(Self.headerMap) ?? global }
        requiredScopesHeader = HTTPField.Name(config.requiredScopesHeader)
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

    func authorize(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        let extraScopes = requiredScopes(request)
        guard !rules.isEmpty else {
            return await answer(request, context, requirement: RouteRequirement(scopes: extraScopes), headers: identityHeaders)
        }
        let rule: AccessRule?
        switch reader.read(request, context: context) {
        case .facts(let facts): rule = rules.rule(for: facts)
        case .unknown: rule = nil
        case .conflicting(let problem):
            context.logger.debug("forward auth refused: \(problem)")
            return BearerChallenge.response(for: authenticator.refuse(.malformed, context: context), statuses: statuses,
                                            description: "The forwarded request headers are inconsistent: \(problem)")
        }
        context.noteRule(rule?.name)
        switch rule?.access {
        case nil where rules.denyUnmatched:
            return BearerChallenge.response(for: authenticator.refuse(.noRule, context: context), statuses: statuses)
        case nil:
            return await answer(request, context, requirement: RouteRequirement(scopes: extraScopes), headers: identityHeaders)
        case .anonymous:
            context.noteDecision(Decision(verdict: .allowed))
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        case .token(let requirement):
            let headers = rule.map { ruleHeaders[$0.index] } ?? identityHeaders
            return await answer(request, context, requirement: requirement.adding(scopes: extraScopes), headers: headers)
        }
    }

    private func answer(_ request: Request, _ context: TollgateRequestContext, requirement: RouteRequirement, headers: HeaderMap) async -> Response {
        let decision = await authenticator.authenticate(request, context: context, requirement: requirement)
        guard decision.isAllowed, let principal = decision.principal else { return BearerChallenge.response(for: decision, statuses: statuses) }
        var response = Response(status: .ok)
        response.headers[.cacheControl] = "no-store"
        for (claim, name) in headers {
            guard let value = claimValue(claim, principal: principal, issuer: decision.issuer), HeaderRules.isSafeValue(value) else { continue }
            response.headers[name] = value
        }
        return response
    }

    /// Scopes a proxy asks for on this route: the `X-Required-Scopes` header, and oauth2-proxy's
    /// convention of a query string on the auth URL (`?scope=a,b`, `?allowed_scopes=`), space- or
    /// comma-separated. They only ever add to what a token needs.
    private func requiredScopes(_ request: Request) -> [String] {
        var scopes: [String] = []
        if let name = requiredScopesHeader, let value = request.headers[name] { scopes += Self.split(value[...]) }
        if request.uri.query != nil {
            let query = request.uri.queryParameters
            for key in ["scope", "allowed_scopes"] { scopes += query.getAll(key).flatMap { Self.split($0[...]) } }
        }
        return scopes
    }

    private static func split(_ value: Substring) -> [String] {
        value.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }

    private func claimValue(_ claim: String, principal: Principal, issuer: String?) -> String? {
        let claims = principal.claims
        switch claim {
        case "sub": return claims.subject
        case "client_id": return claims.clientID
        case "scope": return claims.scopes.isEmpty ? nil : claims.scopes.joined(separator: " ")
        case "issuer": return issuer
        case "iss": return claims.issuer
        case "aud": return claims.audiences.isEmpty ? nil : claims.audiences.joined(separator: " ")
        case "username": return claims.username
        case "user_id": return claims.userID
        case "exp": return claims.expiresAt.map(String.init)
        default:
            let values = claims.values(at: claim)
            return values.isEmpty ? claims.userinfo[claim] : values.joined(separator: " ")
        }
    }
}
