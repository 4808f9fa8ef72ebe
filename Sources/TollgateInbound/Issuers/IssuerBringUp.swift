package import Logging
import TollgateKit

/// Brings every issuer to "reached" (discovery, then an introspection probe, then its keys),
/// retrying with capped exponential backoff, then keeps each JWKS fresh; `/ready` reflects its
/// progress. Runs until cancelled.
package struct IssuerBringUp: Sendable {
    let issuers: [IssuerRuntime]
    let logger: Logger

    package init(issuers: [IssuerRuntime], logger: Logger) {
        self.issuers = issuers
        self.logger = logger
    }

    package func run() async {
        await withTaskGroup(of: Void.self) { group in
            for issuer in issuers {
                group.addTask { await bringUp(issuer) }
            }
        }
    }

    /// No two scheduled JWKS fetches closer than this, whatever the keys' lifetime says.
    static let minimumRefreshSpacing: Duration = .seconds(1)

    /// Refreshes the JWKS before it goes stale, checking at least every 5 s.
    private func keepFresh(_ keys: JWKSKeySet) async {
        while !Task.isCancelled {
            let wait = keys.secondsUntilRefresh
            if wait <= 0 || !wait.isFinite {
                if case .failed(let problem) = await keys.refresh() {
                    logger.warning(
                        "JWKS refresh failed; serving the last good keys", metadata: ["issuer": .string(keys.issuerName), "problem": .string(problem)])
                }
                try? await Task.sleep(for: Self.minimumRefreshSpacing)
                continue
            }
            try? await Task.sleep(for: .seconds(min(max(wait, 0.2), 5)))
        }
    }

    private func bringUp(_ issuer: IssuerRuntime) async {
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            guard let problem = await issuer.prepare() else {
                logger.info("issuer reached", metadata: ["issuer": .string(issuer.name)])
                if let keys = issuer.jwks { await keepFresh(keys) }
                return
            }
            // The first attempts can race the listener or a slow IdP start; only persistent trouble is worth a warning.
            logger.log(
                level: attempt >= 3 ? .warning : .debug, "issuer not reachable yet",
                metadata: [
                    "issuer": .string(issuer.name), "problem": .string(problem), "attempt": .stringConvertible(attempt),
                ])
            try? await Task.sleep(for: .milliseconds(Int64(Backoff.cappedMilliseconds(attempt: attempt, baseMS: 100, maxMS: 10_000))))
        }
    }
}
