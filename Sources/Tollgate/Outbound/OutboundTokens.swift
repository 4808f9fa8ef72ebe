import AsyncHTTPClient
import Logging

/// Every outbound server's token source, by name. Servers that share a token endpoint share its
/// circuit breaker: an outage of that IdP is one outage, not several.
public final class OutboundTokens: Sendable {
    public let sources: [TokenSource]
    private let byName: [String: TokenSource]
    let readyRequiresTokens: Bool

    init(config: OutboundConfig, httpClient: (String?) -> HTTPClient, clock: any TollgateClock,
         observer: any TokenSourceObserver, logger: Logger) async throws {
        var breakers: [String: CircuitBreaker] = [:]
        var sources: [TokenSource] = []
        for (name, server) in config.sortedServers {
            let breaker = breakers[server.tokenEndpoint] ?? CircuitBreaker(config: server.circuitBreaker, clock: clock)
            breakers[server.tokenEndpoint] = breaker
            var signer: ClientAssertionSigner?
            if server.authMethod == .privateKeyJWT, let keyFile = server.privateKeyFile {
                do {
                    signer = try await ClientAssertionSigner.load(pemFile: keyFile, keyID: server.keyID)
                } catch {
                    throw ConfigErrors(errors: [ConfigError(path: "outbound.servers.\(name).private_key_file", message: "\(error)")])
                }
            }
            let endpoint = TokenEndpointClient(server: server, signer: signer, http: httpClient(server.tls.caFile))
            sources.append(TokenSource(name: name, config: server, endpoint: endpoint, breaker: breaker,
                                       clock: clock, observer: observer, logger: logger))
        }
        self.sources = sources
        self.byName = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0) })
        self.readyRequiresTokens = config.readyRequiresTokens
    }

    public subscript(name: String) -> TokenSource? { byName[name] }

    /// Readiness: every server holds a usable token (when configured to require it).
    public func notReadyReasons() -> [String] {
        guard readyRequiresTokens else { return [] }
        return sources.compactMap { source in
            let status = source.status
            return status.tokenValid ? nil : "outbound \(source.name): no valid token" + (status.lastError.map { " (\($0))" } ?? "")
        }
    }

    func cancelInFlight() {
        for source in sources { source.cancelInFlight() }
    }
}
