import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Keep-alive connections to one upstream, owned by the proxy: a request takes the most recently
/// used idle connection or opens one, and the connection comes back when both the request and the
/// answer are complete. An idle connection closes after `idleTimeout`; a request waiting at the cap
/// leaves the queue when its task is cancelled. Built once per outbound server, or per runtime URL.
package final class UpstreamConnectionPool: Sendable {
    let endpoint: UpstreamEndpoint
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let maxConnections: Int
    private let state = Mutex(State())
    private let all = Mutex<[ObjectIdentifier: any Channel]>([:])

    private struct State {
        var idle: [UpstreamConnection] = []
        /// Connections counted against the cap: connecting, busy or idle, until they close.
        var open = 0
        /// Requests waiting for a connection: handed one that comes back, or nil when a slot frees.
        var waiters: [(id: Int, continuation: CheckedContinuation<UpstreamConnection?, any Error>)] = []
        var lastWaiterID = 0
    }

    init(
        endpoint: UpstreamEndpoint, group: any EventLoopGroup, tls: NIOSSLContext?, connectTimeout: TimeAmount, readTimeout: TimeAmount,
        idleTimeout: TimeAmount, maxConnections: Int
    ) {
        self.endpoint = endpoint
        self.group = group
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    private enum Next {
        case use(UpstreamConnection)
        case connect
        case wait(id: Int)
    }

    /// Requests waiting for a connection now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// No connection open and nobody waiting: the pool may be dropped.
    var isUnused: Bool { state.withLock { $0.open == 0 && $0.waiters.isEmpty } }

    /// A connection for one exchange, and whether it was reused (a reused one may have been closed
    /// by the peer in the meantime, which only shows when it is used). At the cap, waits for one.
    func lease() async throws -> (UpstreamConnection, reused: Bool) {
        while true {
            let next = state.withLock { state -> Next in
                while let connection = state.idle.popLast() {
                    if connection.channel.isActive { return .use(connection) }
                }
                guard state.open < maxConnections else {
                    state.lastWaiterID += 1
                    return .wait(id: state.lastWaiterID)
                }
                state.open += 1
                return .connect
            }
            switch next {
            case .use(let connection):
                return (connection, true)
            case .connect:
                do {
                    return (try await connect(), false)
                } catch {
                    released()
                    throw error is CancellationError ? error : UpstreamConnectionError.connect
                }
            case .wait(let id):
                if let handed = try await wait(id: id) { return (handed, true) }
            }
        }
    }

    /// Waits at the cap for a connection coming back (or nil: a slot freed, try again). A cancelled
    /// task leaves the queue at once with `CancellationError`.
    private func wait(id: Int) async throws -> UpstreamConnection? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Outcome { case queued, retry, cancelled }
                let outcome = state.withLock { state -> Outcome in
                    // Checked under the lock, so that a cancellation either sees this waiter queued or is seen here.
                    if Task.isCancelled { return .cancelled }
                    // A slot may have freed between the two locks: then do not wait at all.
                    guard state.open >= maxConnections, state.idle.isEmpty else { return .retry }
                    state.waiters.append((id, continuation))
                    return .queued
                }
                switch outcome {
                case .queued: break
                case .retry: continuation.resume(returning: nil)
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// A connection closed (or never opened): its slot goes to the first waiter, if any.
    private func released(_ closed: ObjectIdentifier? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<UpstreamConnection?, any Error>? in
            state.open -= 1
            if let closed { state.idle.removeAll { ObjectIdentifier($0.channel) == closed } }
            return state.waiters.isEmpty ? nil : state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: nil)
    }

    private func connect() async throws -> UpstreamConnection {
        let handler = UpstreamConnectionHandler(readTimeout: readTimeout, idleTimeout: idleTimeout) { [weak self] handler, channel in
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
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.all.withLock { _ = $0.removeValue(forKey: id) }
            self?.released(id)
        }
        return UpstreamConnection(channel: channel, handler: handler)
    }

    /// A finished exchange's connection: to the first waiter, else back to the idle stack.
    private func giveBack(_ connection: UpstreamConnection) {
        let waiter = state.withLock { state -> CheckedContinuation<UpstreamConnection?, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }

    /// Closes every connection, idle or busy.
    package func shutdown() async {
        state.withLock { $0.idle.removeAll() }
        for channel in all.withLock({ Array($0.values) }) { try? await channel.close() }
    }
}
