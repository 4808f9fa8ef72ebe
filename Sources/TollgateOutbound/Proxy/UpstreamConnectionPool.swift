import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Keep-alive connections to one upstream, owned by the proxy: a request takes an idle
/// connection (preferring one on the caller's event loop) or opens one, and the connection comes
/// back when both the request and the answer are complete. Built once per outbound server.
public final class UpstreamConnectionPool: Sendable {
    let endpoint: UpstreamEndpoint
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private let maxIdle: Int
    private let idle = Mutex<[UpstreamConnection]>([])
    private let all = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(endpoint: UpstreamEndpoint, group: any EventLoopGroup, tls: NIOSSLContext?, connectTimeout: TimeAmount, readTimeout: TimeAmount, maxIdle: Int = 64) {
        self.endpoint = endpoint
        self.group = group
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxIdle = maxIdle
    }

    /// A connection for one exchange, and whether it was reused (a reused one may have been closed
    /// by the peer in the meantime, which only shows when it is used).
    func lease() async throws -> (UpstreamConnection, reused: Bool) {
        while let connection = idle.withLock({ $0.popLast() }) {
            if connection.channel.isActive { return (connection, true) }
        }
        return (try await connect(), false)
    }

    private func connect() async throws -> UpstreamConnection {
        let handler = UpstreamConnectionHandler(readTimeout: readTimeout) { [weak self] handler, channel in
            self?.giveBack(UpstreamConnection(channel: channel, handler: handler))
        }
        let tls = self.tls
        let serverName = endpoint.host.contains(":") || endpoint.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : endpoint.host
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
        let id = ObjectIdentifier(channel)
        all.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in self?.all.withLock { _ = $0.removeValue(forKey: id) } }
        return UpstreamConnection(channel: channel, handler: handler)
    }

    private func giveBack(_ connection: UpstreamConnection) {
        let kept = idle.withLock { idle in
            guard idle.count < maxIdle else { return false }
            idle.append(connection)
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    /// Closes every connection, idle or busy.
    public func shutdown() async {
        idle.withLock { $0.removeAll() }
        for channel in all.withLock({ Array($0.values) }) { try? await channel.close() }
    }
}
