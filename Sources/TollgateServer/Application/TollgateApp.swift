import AsyncHTTPClient
import Foundation
import Hummingbird
package import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
package import TollgateConfiguration
package import TollgateDevIssuer
package import TollgateInbound
package import TollgateKit
package import TollgateOutbound
package import TollgateRegistry
import Tracing
package import UnixSignals

/// One running Tollgate: every component built once from a validated config (the composition
/// root), the router over them, and the HTTP server with its background work. Owns its metrics
/// registry, clients and services; nothing is global.
package final class TollgateApp: Sendable {
    package static let version = TollgateVersion.string

    package let config: TollgateConfig
    package let logger: Logger
    package let metrics: TollgateMetrics
    package let devIssuer: DevIssuer?
    package let authenticator: InboundAuthenticator
    package let outbound: OutboundServers
    package let pusher: OrthancPusher
    package let readiness: Readiness
    package let orthancProfiles: OrthancProfiles
    package let shareTokens: ShareTokens
    let orthancDecision: OrthancAccessDecision
    let accessRules: AccessRules
    let proxy: UpstreamProxy
    /// The time every component reads (a manual one in tests).
    let clock: any TollgateClock
    private let idpClients: HTTPClients
    private let upstreamPools: UpstreamPools
    private let runningGroup = Mutex<ServiceGroup?>(nil)
    /// `server.tls`: the certificate new connections get, reloaded when its files change.
    let serverTLS: ServerTLSContext?
    /// `tracing:`, when spans are exported.
    let tracing: TracingBackend?
    /// `audit:`, when enabled: the trail every route's decisions and acts are recorded on.
    let audit: AuditTrail?
    /// The registry's store, probed in the background for `/ready`.
    let registryHealth: RegistryHealth?
    /// `registry:`, when enabled: runtime connections, opened and checked against the keys.
    package let registry: ConnectionRegistry?
    /// The registry's connection API operations, when the registry is enabled.
    let connections: RuntimeConnections?
    /// `console.enabled`: sessions, the sign-in and the recent refusals.
    let console: Console?
    /// How many requests the event loop answered without the router (`server.event_loop_answers`).
    let eventLoopAnswered = EventLoopAnswerCount()
    /// Messages to the other replicas sharing the registry's store (PostgreSQL); nil without a registry.
    var replicaMessages: ReplicaMessages? {
        connections?.replicaMessages
    }

    package init(
        config: TollgateConfig, clock: any TollgateClock = SystemClock(), logger: Logger? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws {
        let config = try config.validated()
        self.config = config
        self.clock = clock
        let logger = logger ?? .tollgate("tollgate", config: config.log)
        self.logger = logger
        let inbound = config.inbound
        let metrics = TollgateMetrics()
        self.metrics = metrics
        do {
            serverTLS = try config.server.tls.map { try ServerTLSContext(config: $0, logger: logger, reloaded: metrics.tlsReloaded) }
        } catch {
            throw ConfigErrors(errors: [ConfigError(path: "server.tls", message: "cannot load the certificate, key or client CA: \(error)")])
        }
        do {
            tracing = try TracingBackend.make(config: config.tracing, environment: environment, logger: logger)
        } catch {
            throw ConfigErrors(errors: [
                ConfigError(
                    path: "tracing",
                    message: "cannot set up the OTLP exporter (check the OTEL_* variables; only http/protobuf and http/json are built in): \(error)")
            ])
        }
        do {
            audit = try AuditTrail.make(config: config.audit, observer: LoggedAuditObserver(metrics: metrics, logger: logger))
        } catch {
            throw ConfigErrors(errors: [ConfigError(path: "audit.sinks.syslog", message: "cannot set up the syslog sink (TLS files?): \(error)")])
        }
        let outboundCAFiles = Set(config.outbound.servers.values.compactMap(\.tls.caFile))
        let idpClients = try HTTPClients(
            caFiles: Set(inbound.issuers.compactMap(\.tls.caFile) + [config.orthanc.tls.caFile, config.console.oidc.tls.caFile].compactMap { $0 })
                .union(outboundCAFiles))
        let upstreamPools = try UpstreamPools(
            caFiles: outboundCAFiles, readTimeout: .configured(milliseconds: config.proxy.upstreamTimeoutMS),
            maxConnections: config.proxy.maxUpstreamConnections,
            idleTimeout: .configured(milliseconds: config.proxy.upstreamIdleTimeoutMS))
        self.idpClients = idpClients
        self.upstreamPools = upstreamPools
        // A key file or a rule can still fail below; the clients made above must not outlive the failure.
        var registry: ConnectionRegistry?
        do {
            registry = config.registry.enabled ? try await ConnectionRegistry.open(config: config.registry, logger: logger) : nil
            self.registry = registry
            outbound = try await OutboundServers(
                config: config.outbound, idpClients: idpClients, upstreamPools: upstreamPools,
                clock: clock, observer: metrics, logger: logger)
            devIssuer =
                config.devIssuer.enabled
                ? try await DevIssuer(config: config.devIssuer, issuerURL: config.devIssuerURL, clock: clock)
                : nil
            let issuerAliases = Dictionary(
                inbound.issuers.flatMap { [($0.name, $0.name), (config.issuerURL(of: $0), $0.name)] }, uniquingKeysWith: { first, _ in first })
            let accessRules = try AccessRules(config: config.forwardAuth, issuerAliases: issuerAliases)
            self.accessRules = accessRules
            // The auth URL's constraints arrive per request, so what they read is always decoded.
            let constraintClaims = [config.forwardAuth.groupsClaim, "email", "email_verified"]
            let claimPaths = ClaimPaths(
                (config.orthanc.permissions.map { $0.roleClaims + [$0.groupsClaim] } ?? []) + accessRules.claimPaths
                    + config.forwardAuthHeaderClaimPaths + constraintClaims)
            let issuers = inbound.issuers.enumerated().map { index, issuer in
                IssuerRuntime(
                    index: index, config: issuer, issuerURL: config.issuerURL(of: issuer),
                    http: idpClients.client(caFile: issuer.tls.caFile), clock: clock, recorder: metrics, claimPaths: claimPaths,
                    logger: logger)
            }
            let cache = DecisionCache(
                maxEntries: inbound.cache.maxEntries,
                lifetimes: .init(maxTTL: Double(inbound.cache.maxTTLSeconds), negativeTTL: Double(inbound.cache.negativeTTLSeconds)),
                clock: clock, observer: metrics
            )
            let opaque = inbound.issuers.firstIndex(where: \.defaultForOpaque) ?? issuers.firstIndex(where: \.introspects)
            let authenticator = InboundAuthenticator(
                issuers: issuers, opaqueIssuerIndex: opaque, cache: cache, clock: clock, recorder: metrics,
                claimPaths: claimPaths, dpop: config.inbound.dpop,
                replayLedger: registry.flatMap { $0.isShared ? RegistryReplayLedger(store: $0.store, clock: clock) : nil },
                dpopNonces: try Self.dpopNonces(config.inbound.dpop, clock: clock, logger: logger))
            self.authenticator = authenticator
            // Replicas on one PostgreSQL share the roles and the users seen; one process keeps its own.
            let orthancState = registry.flatMap { $0.isShared ? RegistryOrthancState(documents: SharedDocuments(registry: $0), clock: clock) : nil }
            let profiles = try OrthancProfiles(config: config.orthanc.permissions, shared: orthancState, logger: logger)
            let shareTokens = try await ShareTokens(config: config.orthanc.shareTokens, clock: clock)
            orthancProfiles = profiles
            self.shareTokens = shareTokens
            orthancDecision = OrthancAccessDecision(
                authenticator: authenticator, profiles: profiles, shareTokens: shareTokens,
                table: try PermissionTable(rules: config.orthanc.permissions?.table ?? PermissionTable.defaultRules, dicomWebRoot: config.orthanc.dicomWebRoot),
                dicomWebRoot: config.orthanc.dicomWebRoot)
            let outbound = self.outbound
            connections = registry.map {
                RuntimeConnections(
                    registry: $0, config: config.registry, reservedNames: OutboundTargets.reservedNames(outbound),
                    reservedPushNames: Set(config.orthanc.dicomwebServers.keys),
                    http: idpClients.client(caFile: nil), clock: clock, observer: metrics, logger: logger)
            }
            let runtimeDefinitions = OutboundTargets.runtimeDefinitions(config.orthanc.dicomwebServers, servers: outbound)
            pusher = OrthancPusher(
                config: config.orthanc, servers: outbound, http: idpClients.client(caFile: config.orthanc.tls.caFile),
                clock: clock, observer: metrics, logger: logger,
                runtime: connections.map {
                    RegistryPushSource(
                        connections: $0, configured: runtimeDefinitions,
                        minTTL: config.orthanc.checkIntervalSeconds + 60)
                })
            proxy = UpstreamProxy(servers: outbound, config: config.proxy, observer: metrics, pools: upstreamPools)
            registryHealth = registry.map { RegistryHealth(registry: $0) }
            console =
                config.console.enabled
                ? Console(config: config, registry: registry, http: idpClients.client(caFile: config.console.oidc.tls.caFile), clock: clock) : nil
            readiness = Readiness(
                issuers: issuers, devIssuer: devIssuer, outbound: outbound, pusher: pusher, audit: audit, registryHealth: registryHealth,
                mode: config.server.readiness)
        } catch {
            await registry?.close()
            await idpClients.shutdown()
            await upstreamPools.shutdown()
            await audit?.close()
            throw error
        }
    }

    /// Serves until one of `signals` arrives (or `shutdown()`), then drains and shuts down gracefully.
    package func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let application = buildApplication()
        logStart()
        var configuration = ServiceGroupConfiguration(services: [application] + (tracing.map { [$0.service] } ?? []), logger: logger)
        // In-flight requests get the shutdown timeout; whatever is still running then is cancelled.
        configuration.maximumGracefulShutdownDuration = .seconds(config.server.shutdownTimeoutSeconds)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        runningGroup.withLock { $0 = group }
        // The handlers are installed before the server starts, so an early SIGTERM drains too.
        let trapped = signals.isEmpty ? nil : await UnixSignalsSequence(trapping: signals)
        let drainer = trapped.map { sequence in Task { await self.drainOnSignal(sequence, group: group) } }
        // SIGHUP: logrotate moved the audit file (trapped only where a signal-driven run is wanted).
        let hangups = signals.isEmpty || audit == nil ? nil : await UnixSignalsSequence(trapping: .sighup)
        let reopener = hangups.map { sequence in Task { [audit] in await audit?.reopen(on: sequence) } }
        defer {
            drainer?.cancel()
            reopener?.cancel()
            application.serverStarted.finish()
        }
        do {
            if let tracing {
                // Background work (token refresh, Orthanc push, key refresh) traces under the same tracer.
                try await InstrumentationContext.$current.withValue(tracing.tracer.context()) { try await group.run() }
            } else {
                try await group.run()
            }
        } catch let error as IOError where ListenError.explains(error) {
            await shutdownClients()
            throw ListenError(host: config.server.host, port: config.server.port, errno: error.errnoCode)
        } catch {
            await shutdownClients()
            throw error
        }
        await shutdownClients()
        logger.info("tollgate stopped")
    }

    /// A graceful shutdown without the drain delay: stop accepting, finish in-flight requests, stop.
    package func shutdown() async {
        await runningGroup.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// SIGTERM/SIGINT: `/ready` answers 503 at once, requests are still served for
    /// `server.shutdown_delay_seconds` (Kubernetes keeps routing to a terminating pod for a few
    /// seconds), then the graceful shutdown. A second signal shuts down at once.
    private func drainOnSignal(_ signals: UnixSignalsSequence, group: ServiceGroup) async {
        let delay = config.server.shutdownDelaySeconds
        for await signal in signals {
            guard readiness.drain.begin() else {
                await group.triggerGracefulShutdown()
                continue
            }
            logger.info(
                "draining: /ready answers 503; serving for server.shutdown_delay_seconds, then closing the listener",
                metadata: ["signal": .string("\(signal)"), "delay_seconds": .stringConvertible(delay)])
            Task {
                try? await Task.sleep(for: .seconds(delay))
                await group.triggerGracefulShutdown()
            }
        }
    }

    /// Closes the pooled clients; `run()` does it on its way out, a caller that never runs the app must.
    func shutdownClients() async {
        await registry?.close()
        await idpClients.shutdown()
        await upstreamPools.shutdown()
        // Last: every request has been answered, so every record is queued; flush them.
        await audit?.close()
    }

    private func logStart() {
        for warning in config.warnings {
            logger.warning("configuration: \(warning.message)", metadata: ["key": .string(warning.path)])
        }
        if let devIssuer {
            logger.warning(
                "EMBEDDED DEV ISSUER ENABLED: it mints tokens for the configured dev clients. For development and tests only; disable it in production.",
                metadata: ["issuer": .string(devIssuer.issuerURL)])
        }
        if config.admin.authMode == .none && !config.outbound.servers.isEmpty {
            logger.warning("admin.auth_mode is none: anyone who can reach Tollgate can read outbound tokens and use the proxy")
        }
        switch config.orthanc.auth {
        case _ where !config.orthanc.usesWebService:
            break
        case .none:
            logger.warning(
                "orthanc.auth is none: anyone who can reach Tollgate can use the Orthanc web-service routes (/tokens/*, /user/get-profile, /settings/roles, /orthanc/authorize)"
            )
        case .basic where config.orthanc.webserviceUsername == nil:
            logger.info("the Orthanc web-service routes answer 401 until orthanc.webservice_username and orthanc.webservice_password are set")
        case .basic:
            break
        }
        logger.info(
            "tollgate starting",
            metadata: [
                "version": .string(Self.version), "host": .string(config.server.host), "port": .stringConvertible(config.server.port),
                "issuers": .array(config.inbound.issuers.map { .string("\($0.name):\($0.mode.rawValue)") }),
                "outbound_servers": .array(outbound.all.map { .string($0.name) }),
                "executor": .string(EventLoopExecutor.name),
                "dev_issuer": .stringConvertible(devIssuer != nil),
                "registry": .string(config.registry.enabled ? config.registry.store.rawValue : "off"),
                "admin_auth": .string(config.admin.authMode.rawValue),
                "orthanc_routes": .string(config.orthanc.usesWebService ? (config.orthanc.auth == .none ? "open" : "basic") : "unconfigured"),
                "tracing": .stringConvertible(tracing != nil),
                "console": .string(config.console.enabled ? config.console.auth.rawValue : "off"),
                "audit": .string(config.audit.enabled ? "\(config.audit.format.rawValue) to \(config.audit.sinkNames.joined(separator: "+"))" : "off"),
            ])
    }
}
