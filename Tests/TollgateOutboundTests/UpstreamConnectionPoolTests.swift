import NIOCore
import NIOPosix
import Testing
@testable import TollgateOutbound

/// The proxy's pools against a loopback listener that accepts and never answers.
@Suite("upstream connection pools")
struct UpstreamConnectionPoolTests {
    static func silentListener() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
    }

    static func pools(idleTimeout: TimeAmount = .seconds(60)) throws -> UpstreamPools {
        try UpstreamPools(caFiles: [], readTimeout: .seconds(30), maxConnections: 1, idleTimeout: idleTimeout)
    }

    @Test func aRequestWaitingAtTheCapLeavesWhenItsTaskIsCancelled() async throws {
        let listener = try await Self.silentListener()
        defer { listener.close(promise: nil) }
        let pools = try Self.pools()
        defer { Task { await pools.shutdown() } }
        let pool = try pools.sharedPool(url: "http://127.0.0.1:\(listener.localAddress!.port!)/dicom-web")
        let (held, reused) = try await pool.lease()
        #expect(!reused)
        let waiter = Task { try await pool.lease() }
        for _ in 0..<500 where pool.waiting == 0 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(pool.waiting == 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        #expect(pool.waiting == 0)
        #expect(!pool.isUnused, "the held connection still counts")
        try await held.channel.close()
        for _ in 0..<500 where !pool.isUnused { try await Task.sleep(for: .milliseconds(2)) }
        #expect(pool.isUnused)
    }

    @Test func anAlreadyCancelledTaskNeverQueues() async throws {
        let listener = try await Self.silentListener()
        defer { listener.close(promise: nil) }
        let pools = try Self.pools()
        defer { Task { await pools.shutdown() } }
        let pool = try pools.sharedPool(url: "http://127.0.0.1:\(listener.localAddress!.port!)/")
        _ = try await pool.lease()
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.lease()
        }
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        #expect(pool.waiting == 0)
    }

    @Test func nothingListeningIsAConnectFailure() async throws {
        let listener = try await Self.silentListener()
        let port = listener.localAddress!.port!
        try await listener.close()
        let pools = try Self.pools()
        defer { Task { await pools.shutdown() } }
        let pool = try pools.sharedPool(url: "http://127.0.0.1:\(port)/")
        await #expect(throws: UpstreamConnectionError.connect) { _ = try await pool.lease() }
        #expect(pool.isUnused, "a failed connect gives its slot back")
    }

    /// Runtime connections' pools are made per URL on first use and dropped once unused for two idle timeouts.
    @Test func unusedRuntimePoolsAreDropped() async throws {
        let pools = try Self.pools(idleTimeout: .milliseconds(20))
        defer { Task { await pools.shutdown() } }
        let first = try pools.sharedPool(url: "https://pacs-a.example/dicom-web")
        #expect(try pools.sharedPool(url: "https://pacs-a.example/dicom-web") === first)
        #expect(pools.sharedPoolCount == 1)
        try await Task.sleep(for: .milliseconds(60))
        _ = try pools.sharedPool(url: "https://pacs-b.example/dicom-web")
        #expect(pools.sharedPoolCount == 1, "pacs-a's pool was dropped")
        #expect(try pools.sharedPool(url: "https://pacs-a.example/dicom-web") !== first)
    }
}
