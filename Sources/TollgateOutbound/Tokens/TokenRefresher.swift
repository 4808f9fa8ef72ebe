/// Acquires every server's first token, then refreshes each ahead of expiry, independently of
/// traffic. Runs until cancelled; the server starts it once it listens (a token endpoint may be
/// Tollgate's own dev issuer).
package struct TokenRefresher: Sendable {
    let sources: [TokenSource]

    package init(servers: OutboundServers) {
        sources = servers.all.map(\.tokens)
    }

    package func run() async {
        await withTaskGroup(of: Void.self) { group in
            for source in sources {
                group.addTask { await keepFresh(source) }
            }
        }
        for source in sources { source.cancelInFlight() }
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
