import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Builds the proxy's connection pools: one per outbound server, sharing a TLS context per CA
/// bundle (the system roots when none is named).
public final class UpstreamPools: Sendable {
    private let group: any EventLoopGroup
    private let system: NIOSSLContext
    private let extra: [String: NIOSSLContext]
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private let maxConnections: Int
    private let built = Mutex<[UpstreamConnectionPool]>([])
    private let shared = Mutex<[String: UpstreamConnectionPool]>([:])

    public init(caFiles: Set<String>, readTimeout: TimeAmount, maxConnections: Int, connectTimeout: TimeAmount = .seconds(5),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.group = group
        self.maxConnections = maxConnections
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
        let pool = UpstreamConnectionPool(endpoint: endpoint, group: group, tls: tls, connectTimeout: connectTimeout,
                                          readTimeout: readTimeout ?? self.readTimeout, maxConnections: maxConnections)
        built.withLock { $0.append(pool) }
        return pool
    }

    /// One pool per base URL, made on first use (runtime connections' URLs, with the system
    /// trust roots).
    func sharedPool(url: String) throws -> UpstreamConnectionPool {
        guard let endpoint = UpstreamEndpoint(url: url) else { throw InvalidURL() }
        let key = endpoint.url(endpoint.basePath)
        if let pool = shared.withLock({ $0[key] }) { return pool }
        let made = try pool(url: url, caFile: nil)
        return shared.withLock { pools in
            if let pool = pools[key] { return pool }
            pools[key] = made
            return made
        }
    }

    public func shutdown() async {
        for pool in built.withLock({ $0 }) { await pool.shutdown() }
    }
}
