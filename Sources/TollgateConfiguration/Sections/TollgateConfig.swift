import Logging

/// The whole of `config.yaml`. Each nested type mirrors one YAML mapping, key for key.
package struct TollgateConfig: Sendable, Decodable {
    package var server: ServerConfig
    package var log: LogConfig
    package var inbound: InboundConfig
    package var devIssuer: DevIssuerConfig
    package var forwardAuth: ForwardAuthConfig
    package var outbound: OutboundConfig
    package var admin: AdminConfig
    package var proxy: ProxyConfig
    package var orthanc: OrthancConfig
    package var tracing: TracingConfig
    package var registry: RegistryConfig
    package var audit: AuditConfig
    package var console: ConsoleConfig

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, log, inbound, outbound, admin, proxy, orthanc, tracing, registry, audit, console
        case devIssuer = "dev_issuer"
        case forwardAuth = "forward_auth"
    }

    package init(server: ServerConfig = .init(), log: LogConfig = .init(), inbound: InboundConfig = .init(), devIssuer: DevIssuerConfig = .init()) {
        self.server = server
        self.log = log
        self.inbound = inbound
        self.devIssuer = devIssuer
        self.forwardAuth = ForwardAuthConfig()
        self.outbound = OutboundConfig()
        self.admin = AdminConfig()
        self.proxy = ProxyConfig()
        self.orthanc = OrthancConfig()
        self.tracing = TracingConfig()
        self.registry = RegistryConfig()
        self.audit = AuditConfig()
        self.console = ConsoleConfig()
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        server = try c.decode(.server, default: ServerConfig())
        log = try c.decode(.log, default: LogConfig())
        inbound = try c.decode(.inbound, default: InboundConfig())
        devIssuer = try c.decode(.devIssuer, default: DevIssuerConfig())
        forwardAuth = try c.decode(.forwardAuth, default: ForwardAuthConfig())
        outbound = try c.decode(.outbound, default: OutboundConfig())
        admin = try c.decode(.admin, default: AdminConfig())
        proxy = try c.decode(.proxy, default: ProxyConfig())
        orthanc = try c.decode(.orthanc, default: OrthancConfig())
        tracing = try c.decode(.tracing, default: TracingConfig())
        registry = try c.decode(.registry, default: RegistryConfig())
        audit = try c.decode(.audit, default: AuditConfig())
        console = try c.decode(.console, default: ConsoleConfig())
    }
}
