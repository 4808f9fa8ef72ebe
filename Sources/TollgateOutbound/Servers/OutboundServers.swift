import AsyncHTTPClient
package import Logging
package import TollgateConfiguration
package import TollgateKit

/// Every configured outbound server, by name. Servers that share a token endpoint share its
/// circuit breaker: an outage of that IdP is one outage, not several.
package final class OutboundServers: Sendable {
    package let all: [OutboundServer]
    private let byName: [String: OutboundServer]
    /// The servers `/ready` waits for (`required_at_start`, unless `ready_requires_tokens` is false).
    private let requiredForReadiness: Set<String>
    /// The `dpop_key_file`s to watch for a rotated key.
    package let dpopKeyFiles: [DPoPKeyFile]

    /// `idpClients` reach token endpoints, `upstreamPools` the peers themselves (both by CA file).
    package init(
        config: OutboundConfig, idpClients: HTTPClients, upstreamPools: UpstreamPools, clock: any TollgateClock,
        observer: any TokenSourceObserver, logger: Logger
    ) async throws {
        var breakers: [String: CircuitBreaker] = [:]
        var servers: [OutboundServer] = []
        var keyFiles: [DPoPKeyFile] = []
        for (name, server) in config.sortedServers {
            let client = try await Self.client(name: name, server)
            let breaker = breakers[client.tokenEndpoint] ?? CircuitBreaker(config: server.circuitBreaker, clock: clock)
            breakers[client.tokenEndpoint] = breaker
            let dpop = try server.dpop ? server.dpopKeyFile.map { try DPoPKey(pemFile: $0, clock: clock) } ?? DPoPKey(clock: clock) : nil
            var parser = TokenResponseParser(
                defaultExpiresIn: server.defaultExpiresIn,
                scrubber: SecretScrubber(secrets: [server.clientSecret?.value ?? ""], basicPairs: [(server.clientID, server.clientSecret?.value ?? "")]))
            parser.acceptsDPoP = dpop != nil
            var endpoint = TokenEndpointClient(
                endpoint: client.tokenEndpoint, authentication: client.authentication,
                scope: server.scope, resource: server.resource, timeout: .configured(milliseconds: server.timeoutMS),
                parser: parser, http: idpClients.client(caFile: server.tls.caFile)
            )
            endpoint.dpop = dpop
            let tokens = TokenSource(
                name: name, endpoint: endpoint, retry: server.retry, refreshBufferSeconds: server.refreshBufferSeconds,
                breaker: breaker, clock: clock, observer: observer, logger: logger)
            if let dpop, let path = server.dpopKeyFile { keyFiles.append(DPoPKeyFile(server: name, path: path, key: dpop, tokens: tokens)) }
            servers.append(
                OutboundServer(
                    name: name, url: server.url, tokenEndpoint: client.tokenEndpoint, tokens: tokens,
                    upstream: try upstreamPools.pool(
                        url: server.url, caFile: server.tls.caFile,
                        readTimeout: server.upstreamTimeoutMS.map { .configured(milliseconds: $0) }),
                    staticHeaders: server.sortedHeaders,
                    upstreamBreaker: server.upstreamCircuitBreaker.enabled
                        ? CircuitBreaker(config: server.upstreamCircuitBreaker, clock: clock) : nil,
                    upstreamFailureStatuses: Set(server.upstreamCircuitBreaker.failureStatuses), dpop: dpop))
        }
        all = servers
        dpopKeyFiles = keyFiles
        byName = Dictionary(uniqueKeysWithValues: servers.map { ($0.name, $0) })
        requiredForReadiness = config.readyRequiresTokens ? Set(config.servers.filter { $0.value.requiredAtStart }.keys) : []
    }

    package subscript(name: String) -> OutboundServer? { byName[name] }

    /// Readiness: every required server holds a usable token. `/ready` is unauthenticated, so a
    /// reason names the server and the class of failure, never IdP text.
    package func notReadyReasons() -> [String] {
        tokenProblems(among: all.filter { requiredForReadiness.contains($0.name) })
    }

    /// Every server without a usable token, required or not: `/health`'s degraded list.
    package func degradedReasons() -> [String] {
        tokenProblems(among: all)
    }

    private func tokenProblems(among servers: [OutboundServer]) -> [String] {
        servers.compactMap { server in
            let status = server.tokens.status
            return status.tokenValid ? nil : "outbound \(server.name): no valid token" + (status.lastFailure.map { " (\($0))" } ?? "")
        }
    }

    /// Where a server's tokens come from and how its requests are authenticated, as `auth_method`
    /// says (validation has checked the inputs; a Google key file names its own token endpoint).
    private static func client(
        name: String, _ server: OutboundServerConfig
    ) async throws
        -> (tokenEndpoint: String, authentication: any TokenRequestAuthentication)
    {
        func fileError(_ key: String, _ error: any Error) -> ConfigErrors {
            ConfigErrors(errors: [ConfigError(path: "outbound.servers.\(name).\(key)", message: "\(error)")])
        }
        switch server.authMethod {
        case .clientSecretBasic, .clientSecretPost:
            let method: ClientCredentials.Method = server.authMethod == .clientSecretPost ? .clientSecretPost : .clientSecretBasic
            return (
                server.tokenEndpoint,
                ClientSecretAuthentication(
                    credentials: ClientCredentials(clientID: server.clientID, secret: server.clientSecret ?? Secret(""), method: method))
            )
        case .privateKeyJWT:
            do {
                return (
                    server.tokenEndpoint,
                    try await PrivateKeyJWTAuthentication.load(
                        clientID: server.clientID, pemFile: server.privateKeyFile ?? "", keyID: server.keyID)
                )
            } catch {
                throw fileError("private_key_file", error)
            }
        case .googleServiceAccount:
            do {
                let grant = try await GoogleServiceAccountGrant.load(
                    file: server.serviceAccountFile ?? "", scope: server.scope ?? OutboundServerConfig.googleHealthcareScope)
                return (grant.tokenURI, grant)
            } catch {
                throw fileError("service_account_file", error)
            }
        case .clientAssertionFile:
            return (server.tokenEndpoint, ClientAssertionFileAuthentication(clientID: server.clientID, path: server.clientAssertionFile ?? ""))
        }
    }
}
