import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// `/auth/outbound/{server}`: a forward-auth answer that hands an outbound server's current token
/// to the caller's own proxy in a response header (nginx `auth_request_set`, Traefik
/// `authResponseHeaders`, Envoy `allowed_upstream_headers`), so that the proxy carries the
/// DICOMweb bytes and Tollgate only holds tokens. Never to an unauthenticated caller: in `admin`
/// mode the route sits behind the admin guard (and is refused while that guard is open), in
/// `bearer` mode the caller's own token must hold the scopes listed for the server.
struct OutboundTokenInjectionAdapter {
    let servers: OutboundServers
    let authenticator: InboundAuthenticator
    let config: OutboundTokenInjectionConfig
    let adminIsOpen: Bool
    let header: HTTPField.Name

    init(servers: OutboundServers, authenticator: InboundAuthenticator, config: OutboundTokenInjectionConfig, adminIsOpen: Bool) {
        self.servers = servers
        self.authenticator = authenticator
        self.config = config
        self.adminIsOpen = adminIsOpen
        self.header = HTTPField.Name(config.header) ?? HTTPField.Name("X-Upstream-Authorization")!
    }

    /// On the admin group in `admin` mode, on the open router in `bearer` mode. Anything below
    /// the server name is ignored: Envoy's `path_prefix` appends the original path.
    func register(router: some RouterMethods<TollgateRequestContext>, admin: some RouterMethods<TollgateRequestContext>) {
        for method in ForwardAuthAdapter.methods {
            for path in ["/auth/outbound/:server", "/auth/outbound/:server/**"] {
                switch config.auth {
                case .admin: admin.on(RouterPath(path), method: method) { request, context in await inject(request, context) }
                case .bearer: router.on(RouterPath(path), method: method) { request, context in await inject(request, context) }
                }
            }
        }
    }

    private func inject(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        let name = context.parameters.get("server") ?? ""
        context.noteAudit(.tokenInjection) { $0.target = name }
        guard let server = servers[name] else { return OutboundErrorReply.unknownServer(name, requestID: context.requestID) }
        switch config.auth {
        case .admin where adminIsOpen:
            return OutboundErrorReply.response(
                "FORBIDDEN", "admin.auth_mode is none: outbound tokens are not handed out without a caller check",
                status: .forbidden, requestID: context.requestID)
        case .admin:
            break
        case .bearer:
            guard let scopes = config.requiredScopes[server.name] else {
                return OutboundErrorReply.response(
                    "FORBIDDEN", "no scope is configured for \(server.name) in forward_auth.outbound_tokens.required_scopes",
                    status: .forbidden, requestID: context.requestID)
            }
            let decision = await authenticator.authenticate(request, context: context, requirement: RouteRequirement(scopes: scopes))
            guard decision.isAllowed else { return BearerChallenge.response(for: decision) }
        }
        switch await server.tokens.token() {
        case .success(let token) where token.isDPoPBound:
            return OutboundErrorReply.dpopBound(server.name, requestID: context.requestID)
        case .success(let token):
            return Response(status: .ok, headers: [header: "Bearer " + token.value, .cacheControl: "no-store"])
        case .failure(let error):
            return OutboundErrorReply.tokenUnavailable(error, server: server.name, requestID: context.requestID)
        }
    }
}
