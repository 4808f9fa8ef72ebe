import AsyncHTTPClient
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// One running Tollgate: every component built from a validated config, and the HTTP server
/// that exposes them. Owns its registry, clients and background work; nothing is global.
public final class TollgateApp: Sendable {
    public static let version = TollgateVersion.string

    public let config: TollgateConfig
    public let logger: Logger
    public let metrics: TollgateMetrics
    public let devIssuer: DevIssuer?
    public let authenticator: InboundAuthenticator
    public let readiness: Readiness
    public let outbound: OutboundTokens
    public let pusher: OrthancPusher
    private let clients: HTTPClients
    private let runningGroup = Mutex<ServiceGroup?>(nil)
    private let proxyClients: HTTPClients
    private let clock: any TollgateClock

    public init(config: TollgateConfig, clock: any TollgateClock = SystemClock(), logger: Logger? = nil) async throws {
        let config = try config.validated()
        self.config = config
        self.clock = clock
        self.logger = logger ?? .tollgate("tollgate", config: config.log)
        let inbound = config.inbound
        let metrics = TollgateMetrics(issuerNames: inbound.issuers.map(\.name))
        let outboundCAFiles = Set(config.outbound.servers.values.compactMap(\.tls.caFile))
        let clients = try HTTPClients(caFiles: Set(inbound.issuers.compactMap(\.tls.caFile) + [config.orthanc.tls.caFile].compactMap { $0 })
            .union(outboundCAFiles))
        self.metrics = metrics
        self.clients = clients
        proxyClients = try HTTPClients(
            caFiles: outboundCAFiles,
            configuration: HTTPClients.proxyUpstream(readTimeout: .milliseconds(Int64(config.proxy.upstreamTimeoutMS)))
        )
        outbound = try await OutboundTokens(
            config: config.outbound, httpClient: clients.client(caFile:), clock: clock, observer: metrics, logger: self.logger
        )
        devIssuer = config.devIssuer.enabled
            ? try await DevIssuer(config: config.devIssuer, issuerURL: config.devIssuerURL, clock: clock)
            : nil
        let issuers = inbound.issuers.enumerated().map { index, issuer in
            IssuerRuntime(
                index: index, config: issuer, issuerURL: config.issuerURL(of: issuer),
                http: clients.client(caFile: issuer.tls.caFile), clock: clock, recorder: metrics
            )
        }
        let cache = DecisionCache(
            maxEntries: inbound.cache.maxEntries,
            lifetimes: .init(maxTTL: Double(inbound.cache.maxTTLSeconds), negativeTTL: Double(inbound.cache.negativeTTLSeconds)),
            clock: clock, observer: metrics
        )
        let opaque = inbound.issuers.firstIndex(where: \.defaultForOpaque) ?? issuers.firstIndex(where: \.introspects)
        authenticator = InboundAuthenticator(issuers: issuers, opaqueIssuerIndex: opaque, cache: cache, clock: clock, recorder: metrics)
        pusher = OrthancPusher(config: config.orthanc, tokens: outbound, http: clients.client(caFile: config.orthanc.tls.caFile),
                               clock: clock, observer: metrics, logger: self.logger)
        readiness = Readiness(issuers: issuers, devIssuer: devIssuer, outbound: outbound, pusher: pusher)
    }

    /// Serves until one of `signals` arrives (or the task is cancelled), then shuts down gracefully.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let (tokensStarted, tokensStartedContinuation) = AsyncStream.makeStream(of: Void.self)
        let (pushStarted, pushStartedContinuation) = AsyncStream.makeStream(of: Void.self)
        let monitor = IssuerMonitor(issuers: authenticator.issuers, serverStarted: started, logger: logger)
        let refresher = TokenRefresher(tokens: outbound, serverStarted: tokensStarted)
        let pushService = OrthancPushService(pusher: pusher, serverStarted: pushStarted)
        let devIssuer = self.devIssuer
        let logger = self.logger
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "tollgate"),
            services: [monitor, refresher, pushService],
            onServerRunning: { _ in
                devIssuer?.markServing()
                for continuation in [startedContinuation, tokensStartedContinuation, pushStartedContinuation] {
                    continuation.yield()
                    continuation.finish()
                }
            },
            logger: logger
        )
        if let devIssuer {
            logger.warning("EMBEDDED DEV ISSUER ENABLED: it mints tokens for the configured dev clients. For development and tests only; disable it in production.",
                           metadata: ["issuer": .string(devIssuer.issuerURL)])
        }
        if config.admin.authMode == .none && !config.outbound.servers.isEmpty {
            logger.warning("admin.auth_mode is none: anyone who can reach Tollgate can read outbound tokens and use the proxy")
        }
        logger.info("tollgate starting", metadata: [
            "version": .string(Self.version), "host": .string(config.server.host), "port": .stringConvertible(config.server.port),
            "issuers": .array(config.inbound.issuers.map { .string($0.name) }),
            "outbound_servers": .array(outbound.sources.map { .string($0.name) }),
        ])
        defer {
            startedContinuation.finish()
            tokensStartedContinuation.finish()
            pushStartedContinuation.finish()
        }
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: signals, logger: logger)
        // In-flight requests get the grace period; whatever is still running then is cancelled.
        configuration.maximumGracefulShutdownDuration = .seconds(config.server.shutdownGraceSeconds)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        runningGroup.withLock { $0 = group }
        do {
            try await group.run()
        } catch {
            await shutdownClients()
            throw error
        }
        await shutdownClients()
        logger.info("tollgate stopped")
    }

    /// The same graceful shutdown as SIGTERM: stop accepting, finish in-flight requests, stop.
    public func shutdown() async {
        await runningGroup.withLock { $0 }?.triggerGracefulShutdown()
    }

    private func shutdownClients() async {
        await clients.shutdown()
        await proxyClients.shutdown()
    }

    func makeRouter() -> Router<TollgateRequestContext> {
        let router = Router(context: TollgateRequestContext.self)
        router.add(middleware: ObservabilityMiddleware(metrics: metrics, requestIDs: RequestIDs()))
        ProbeRoutes(readiness: readiness, metrics: metrics, cache: authenticator.cache, outbound: outbound, version: Self.version).register(on: router)
        MockForgeAdapter(authenticator: authenticator, maxBodyBytes: config.server.maxBodyBytes).register(on: router)
        ForwardAuthAdapter(authenticator: authenticator, config: config.forwardAuth).register(on: router)
        let guardian = AdminGuard(config: config.admin, authenticator: authenticator)
        OutboundAPIAdapter(tokens: outbound, pusher: pusher, guardian: guardian, readiness: readiness, version: Self.version).register(on: router)
        OrthancAuthAdapter(authenticator: authenticator, config: config.orthanc, maxBodyBytes: config.server.maxBodyBytes).register(on: router)
        let proxy = UpstreamProxy(tokens: outbound, clients: proxyClients, config: config.proxy, observer: metrics)
        ProxyAdapter(proxy: proxy, guardian: guardian).register(on: router)
        if let devIssuer {
            DevIssuerRoutes(issuer: devIssuer, metrics: metrics, maxBodyBytes: config.server.maxBodyBytes).register(on: router)
        }
        return router
    }
}
