import Logging
import ServiceLifecycle

/// Once the server listens, brings every issuer to "reached" (discovery, then an introspection
/// probe), retrying with capped exponential backoff; `/ready` reflects its progress.
struct IssuerMonitor: Service {
    let issuers: [IssuerRuntime]
    let serverStarted: AsyncStream<Void>
    let logger: Logger

    func run() async throws {
        for await _ in serverStarted { break }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for issuer in issuers {
                    group.addTask { await bringUp(issuer) }
                }
            }
        }
        try? await gracefulShutdown()
    }

    /// Refreshes the JWKS before it goes stale, checking at least every 5 s.
    private func keepFresh(_ keys: JWKSKeySet) async {
        while !Task.isCancelled {
            let wait = keys.secondsUntilRefresh
            if wait <= 0 {
                if case .failed(let problem) = await keys.refresh() {
                    logger.warning("JWKS refresh failed; serving the last good keys", metadata: ["issuer": .string(keys.issuerName), "problem": .string(problem)])
                }
                continue
            }
            try? await Task.sleep(for: .seconds(min(max(wait, 0.2), 5)))
        }
    }

    private func bringUp(_ issuer: IssuerRuntime) async {
        var delay: Duration = .milliseconds(100)
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            guard let problem = await issuer.prepare() else {
                logger.info("issuer reached", metadata: ["issuer": .string(issuer.name)])
                if let keys = issuer.jwks { await keepFresh(keys) }
                return
            }
            // The first attempts can race the listener or a slow IdP start; only persistent trouble is worth a warning.
            logger.log(level: attempt >= 3 ? .warning : .debug, "issuer not reachable yet", metadata: [
                "issuer": .string(issuer.name), "problem": .string(problem), "attempt": .stringConvertible(attempt),
            ])
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
    }
}
