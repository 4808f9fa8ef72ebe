import ServiceLifecycle

/// Acquires every server's first token once the HTTP server listens (a token endpoint may be
/// Tollgate's own dev issuer), then refreshes each ahead of expiry, independently of traffic.
struct TokenRefresher: Service {
    let tokens: OutboundTokens
    let serverStarted: AsyncStream<Void>

    func run() async throws {
        for await _ in serverStarted { break }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for source in tokens.sources {
                    group.addTask { await keepFresh(source) }
                }
            }
        }
        tokens.cancelInFlight()
        try? await gracefulShutdown()
    }

    /// Polls at most every second so that a `clear`, an invalidation or a moved clock is seen promptly.
    private func keepFresh(_ source: TokenSource) async {
        while !Task.isCancelled {
            let wait = source.secondsUntilRefresh
            if wait > 0 {
                try? await Task.sleep(for: .seconds(min(wait, 1)))
                continue
            }
            _ = await source.refresh()
        }
    }
}
