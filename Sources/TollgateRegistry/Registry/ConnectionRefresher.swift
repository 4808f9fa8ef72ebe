package import TollgateConfiguration
import TollgateKit

/// Background refresh (`registry.refresh`): held tokens are replaced before they expire and
/// refresh tokens are exercised at least every `keepalive_hours`, whatever the request rate.
/// It goes through the same single flight as callers, so a sweep and a caller never both ask.
/// Failed connections are left to callers: no retry storm against an IdP that said no.
package struct ConnectionRefresher: Sendable {
    let connections: RuntimeConnections
    let config: RegistryRefreshConfig

    package init(connections: RuntimeConnections, config: RegistryRefreshConfig) {
        self.connections = connections
        self.config = config
    }

    package func run() async {
        while !Task.isCancelled {
            _ = await sweep()
            try? await Task.sleep(for: .seconds(config.intervalSeconds))
        }
    }

    /// Refreshes every due connection; returns how many it asked for.
    @discardableResult
    package func sweep() async -> Int {
        guard let records = try? await connections.registry.store.all() else { return 0 }
        let now = connections.context.clock.now()
        var asked = 0
        for record in records {
            guard let minTTL = due(record, now: now) else { continue }
            asked += 1
            _ = try? await connections.tokens.renew(record, minTTL: minTTL)
        }
        return asked
    }

    /// nil when not due; else the `minTTL` to renew with (nil inside: a new token regardless).
    func due(_ record: ConnectionRecord, now: Double) -> Int?? {
        guard record.status == .completed, let expiresAt = record.expiresAt else { return nil }
        // Early enough that callers asking with the default min_ttl never have to wait for a fetch.
        let ahead = max(config.aheadSeconds, config.intervalSeconds * 2, RuntimeConnections.defaultMinTTLSeconds + config.intervalSeconds)
        if expiresAt - now < Double(ahead) { return .some(ahead) }
        let lastUse = record.lastRefreshAt ?? record.createdAt
        if record.flow != .clientCredentials, now - lastUse >= Double(config.keepaliveHours) * 3600 { return .some(nil) }
        return nil
    }
}
