package import Hummingbird
package import HummingbirdCore
import HummingbirdTLS
package import Logging
package import NIOCore
package import ServiceLifecycle
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// The HTTP server over a built `TollgateApp`, with the background work that waits for it to
/// listen. Router tests use it without a socket (HummingbirdTesting's `.router` mode), where the
/// background work never starts because no server ever listens.
package struct TollgateApplication: ApplicationProtocol {
    package typealias Context = TollgateRequestContext
    let app: TollgateApp
    let routes: RouterResponder<TollgateRequestContext>
    let started: ServerStartSignal
    /// `server.event_loop_answers`: what the event loop answers without the router.
    let answers: EventLoopAnswers?

    package var responder: RouterResponder<TollgateRequestContext> {
        get async throws { routes }
    }
    package var configuration: ApplicationConfiguration {
        let server = app.config.server
        return .init(
            address: .hostname(server.host, port: server.port), serverName: Self.serverName,
            availableConnectionsDelegate: .maximum(server.maxConnections, logger: app.logger))
    }
    static let serverName = "tollgate"

    /// HTTP/1.1 with an idle timeout that also covers unfinished request heads, and the event-loop
    /// answers; behind TLS when `server.tls` is set.
    package var server: HTTPServerBuilder {
        let idleTimeout = Duration.seconds(app.config.server.idleTimeoutSeconds)
        let answers = self.answers
        let http1 = HTTPServerBuilder { responder in TollgateHTTP1Channel(responder: responder, idleTimeout: idleTimeout, answers: answers) }
        guard let tls = app.serverTLS else { return http1 }
        do {
            return try .tls(http1, tlsConfiguration: tls.configuration)
        } catch {
            // Unreachable: TollgateApp.init built a context from the same settings. Never fall back to plain HTTP.
            fatalError("server.tls cannot be used: \(error)")
        }
    }
    package var logger: Logger { app.logger }
    package var services: [any Service] { started.services + (app.serverTLS.map { [$0] } ?? []) }
    /// Finishes the start signal so that background work waiting for it ends too.
    var serverStarted: ServerStartSignal { started }

    package func onServerRunning(_ channel: any Channel) async {
        app.devIssuer?.markServing()
        started.fire()
    }
}

extension TollgateApp {
    /// The application: the router, and each piece of background work started once the server listens.
    package func buildApplication() -> TollgateApplication {
        let issuerBringUp = IssuerBringUp(issuers: authenticator.issuers, logger: logger)
        let refresher = TokenRefresher(servers: outbound)
        let pusher = self.pusher
        let connectionRefresher = connections.map { ConnectionRefresher(connections: $0, config: config.registry.refresh) }
        let replicaMessages = self.replicaMessages
        let cache = authenticator.cache
        let profiles = orthancProfiles
        let started = ServerStartSignal(work: [
            { await issuerBringUp.run() },
            { await refresher.run() },
            { await pusher.run() },
            { await connectionRefresher?.run() },
            {
                await replicaMessages?.run(
                    evict: { hex in if let key = TokenKey(sha256Hex: hex) { cache.remove(key) } },
                    documentChanged: { key in if key == RegistryOrthancState.rolesKey { await profiles.reloadShared() } })
            },
            { await Self.watchRoles(profiles) },
            { [outbound, logger] in await Self.watchDPoPKeys(outbound.dpopKeyFiles, logger: logger) },
            { [registryHealth] in await registryHealth?.run() },
        ])
        let shared = sharedRouteParts()
        let answers =
            config.server.eventLoopAnswers
            ? EventLoopAnswers(
                forwardAuth: shared.forwardAuth, mockForge: shared.mockForge, orthanc: shared.orthanc, observability: shared.observability,
                authenticator: authenticator, logger: logger, serverName: TollgateApplication.serverName, count: eventLoopAnswered)
            : nil
        return TollgateApplication(app: self, routes: buildRouter(shared).buildResponder(), started: started, answers: answers)
    }

    /// The pieces the router and the event-loop answers share, so that both count, throttle and number alike.
    struct SharedRouteParts {
        let observability: ObservabilityMiddleware
        let forwardAuth: ForwardAuthAdapter
        let mockForge: MockForgeAdapter
        let orthanc: OrthancWebService
    }

    /// The Orthanc web-service routes and the guard in front of them.
    struct OrthancWebService {
        let guardian: OrthancWebServiceGuard
        let plugin: OrthancAuthAdapter
        let filter: OrthancFilterAdapter
    }

    func sharedRouteParts() -> SharedRouteParts {
        SharedRouteParts(
            observability: ObservabilityMiddleware(
                metrics: metrics, requestIDs: RequestIDs(), accessLog: config.log.access, audit: audit,
                trustedProxies: config.forwardAuth.trustedProxies.compactMap(IPNetwork.init),
                tracing: RequestTracing(tracer: tracing?.tracer, scheme: serverTLS == nil ? "http" : "https"), denials: console?.denials),
            forwardAuth: ForwardAuthAdapter(authenticator: authenticator, rules: accessRules, config: config.forwardAuth, clock: clock),
            mockForge: MockForgeAdapter(authenticator: authenticator, maxBodyBytes: config.server.maxBodyBytes),
            orthanc: OrthancWebService(
                guardian: OrthancWebServiceGuard(config: config.orthanc),
                plugin: OrthancAuthAdapter(
                    decisions: OrthancWebServiceDecision(authenticator: authenticator, profiles: orthancProfiles, shareTokens: shareTokens),
                    profiles: orthancProfiles, shareTokens: shareTokens, maxBodyBytes: config.server.maxBodyBytes),
                filter: OrthancFilterAdapter(decision: orthancDecision, maxBodyBytes: config.server.maxBodyBytes)))
    }

    /// The roles file, reread when it changes on disk (every 2 s), after the shared store's copy
    /// was taken at start.
    static func watchRoles(_ profiles: OrthancProfiles) async {
        guard profiles.isWritable else { return }
        await profiles.loadShared()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            await profiles.reloadFileIfChanged()
        }
    }

    /// Outbound `dpop_key_file`s, checked every 5 s for a rotated key.
    static func watchDPoPKeys(_ files: [DPoPKeyFile], logger: Logger) async {
        guard !files.isEmpty else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            for file in files {
                let metadata: Logger.Metadata = ["server": .string(file.server), "file": .string(file.path)]
                switch file.reloadIfChanged() {
                case nil: break
                case .rotated(let thumbprint)?:
                    logger.notice(
                        "outbound DPoP key rotated: proofs are signed with the new key; the token bound to the old one is dropped for a new one",
                        metadata: metadata.merging(["jkt": .string(thumbprint)]) { $1 })
                case .unusable(let why)?:
                    logger.warning("outbound DPoP key file changed but \(why): the previous key stays", metadata: metadata)
                }
            }
        }
    }

    /// Every route, and a 405 with `Allow` for every other method on a path it serves.
    package func buildRouter() -> Router<TollgateRequestContext> {
        buildRouter(sharedRouteParts())
    }

    func buildRouter(_ shared: SharedRouteParts) -> Router<TollgateRequestContext> {
        let router = servedRoutes(shared)
        MethodNotAllowedRoutes.register(on: router)
        return router
    }

    /// Every route, each on the adapter for its caller's protocol; admin routes behind the guard.
    func servedRoutes(_ shared: SharedRouteParts? = nil) -> Router<TollgateRequestContext> {
        let shared = shared ?? sharedRouteParts()
        // HEAD is answered wherever GET is (RFC 9110 §9.3.2), without the body.
        let router = Router(context: TollgateRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: shared.observability)
        ProbeRoutes(
            readiness: readiness, metrics: metrics, cache: authenticator.cache, outbound: outbound, registry: registry, audit: audit,
            version: Self.version, console: console != nil
        ).register(on: router)
        shared.mockForge.register(on: router)
        shared.forwardAuth.register(on: router)
        let orthanc = router.group().add(middleware: shared.orthanc.guardian)
        shared.orthanc.plugin.register(on: orthanc)
        shared.orthanc.filter.register(on: orthanc)
        let admin = router.group().add(middleware: AdminGuard(config: config.admin, authenticator: authenticator))
        let targets = OutboundTargets(servers: outbound, connections: connections)
        OutboundAPIAdapter(servers: outbound, pusher: pusher, readiness: readiness, version: Self.version, targets: targets).register(on: admin)
        ProxyAdapter(proxy: proxy, targets: targets, drainTimeout: .seconds(config.server.idleTimeoutSeconds)).register(on: admin)
        CacheEvictionAdapter(
            cache: authenticator.cache, replicas: config.registry.store == .postgres ? replicaMessages : nil,
            maxBodyBytes: config.server.maxBodyBytes
        ).register(on: admin)
        if let connections {
            let adapter = ConnectionsAdapter(
                connections: connections, staticServers: outbound, maxBodyBytes: config.server.maxBodyBytes,
                prefixes: config.registry.apiPrefixes, exposeRefreshTokens: config.registry.exposeRefreshTokens, console: console != nil)
            adapter.register(on: admin)
            adapter.registerCallback(on: router)
        }
        OutboundTokenInjectionAdapter(
            servers: outbound, authenticator: authenticator, config: config.forwardAuth.outboundTokens,
            adminIsOpen: config.admin.authMode == .none
        ).register(router: router, admin: admin)
        if let console {
            ConsoleRoutes(console: console, app: self, maxBodyBytes: config.server.maxBodyBytes).register(on: router)
        }
        if let devIssuer {
            DevIssuerRoutes(issuer: devIssuer, metrics: metrics, maxBodyBytes: config.server.maxBodyBytes).register(on: router)
        }
        return router
    }
}
