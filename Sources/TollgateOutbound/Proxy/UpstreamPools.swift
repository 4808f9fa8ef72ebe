package import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Builds the proxy's connection pools: one per outbound server, sharing a TLS context per CA
/// bundle (the system roots when none is named).
package final class UpstreamPools: Sendable {
    private let group: any EventLoopGroup
    private let system: NIOSSLContext
    private let extra: [String: NIOSSLContext]
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let maxConnections: Int
    private let built = Mutex<[ObjectIdentifier: UpstreamConnectionPool]>([:])
    private let shared = Mutex(Shared())

    /// Runtime connections' pools by base URL, each with when it was last handed out.
    private struct Shared {
        var pools: [String: (pool: UpstreamConnectionPool, lastUsed: NIODeadline)] = [:]
        var lastSweep = NIODeadline.now()
    }

    package init(
        caFiles: Set<String>, readTimeout: TimeAmount, maxConnections: Int, idleTimeout: TimeAmount = .seconds(60),
        connectTimeout: TimeAmount = .seconds(5), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.group = group
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.connectTimeout = connectTimeout
        system = try NIOSSLContext(configuration: .makeClientConfiguration())
        var extra: [String: NIOSSLContext] = [:]
        for caFile in caFiles {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            extra[caFile] = try NIOSSLContext(configuration: tls)
        }
        self.extra = extra
    }

    struct InvalidURL: Error {}

    /// `readTimeout` overrides the default for this one server.
    func pool(url: String, caFile: String?, readTimeout: TimeAmount? = nil) throws -> UpstreamConnectionPool {
        guard let endpoint = UpstreamEndpoint(url: url) else { throw InvalidURL() }
        let tls = endpoint.usesTLS ? caFile.flatMap { extra[$0] } ?? system : nil
        let pool = UpstreamConnectionPool(
            endpoint: endpoint, group: group, tls: tls, connectTimeout: connectTimeout,
            readTimeout: readTimeout ?? self.readTimeout, idleTimeout: idleTimeout, maxConnections: maxConnections)
        built.withLock { $0[ObjectIdentifier(pool)] = pool }
        return pool
    }

    /// One pool per base URL, made on first use (runtime connections' URLs, with the system trust
    /// roots). A pool nobody has used for twice the idle timeout, with no connection left, is dropped.
    func sharedPool(url: String) throws -> UpstreamConnectionPool {
        guard let endpoint = UpstreamEndpoint(url: url) else { throw InvalidURL() }
        let key = endpoint.url(endpoint.basePath)
        let now = NIODeadline.now()
        let (found, stale) = shared.withLock { shared -> (UpstreamConnectionPool?, [UpstreamConnectionPool]) in
            let found = shared.pools[key]?.pool
            if found != nil { shared.pools[key]?.lastUsed = now }
            return (found, sweep(&shared, now: now))
        }
        forget(stale)
        if let found { return found }
        let made = try pool(url: url, caFile: nil)
        let kept = shared.withLock { shared in
            if let pool = shared.pools[key]?.pool { return pool }
            shared.pools[key] = (made, now)
            return made
        }
        if kept !== made { forget([made]) }
        return kept
    }

    /// Runtime pools now held (for tests and the status page).
    var sharedPoolCount: Int { shared.withLock { $0.pools.count } }

    /// At most once per idle timeout: the shared pools that are unused and were not handed out for two idle timeouts.
    private func sweep(_ shared: inout Shared, now: NIODeadline) -> [UpstreamConnectionPool] {
        guard now - shared.lastSweep >= idleTimeout else { return [] }
        shared.lastSweep = now
        let stale = shared.pools.filter { now - $0.value.lastUsed >= idleTimeout * 2 && $0.value.pool.isUnused }
        for key in stale.keys { shared.pools.removeValue(forKey: key) }
        return stale.values.map(\.pool)
    }

    private func forget(_ pools: [UpstreamConnectionPool]) {
        guard !pools.isEmpty else { return }
        built.withLock { built in for pool in pools { built.removeValue(forKey: ObjectIdentifier(pool)) } }
    }

    package func shutdown() async {
        for pool in built.withLock({ Array($0.values) }) { await pool.shutdown() }
    }
}
