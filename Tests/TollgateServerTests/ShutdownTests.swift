import AsyncHTTPClient
import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// `tollgate serve` as a real process: SIGTERM lets an in-flight request finish, then exit 0.
@Suite("graceful shutdown")
struct ShutdownTests {
    /// The `tollgate` executable next to this test bundle (SwiftPM builds both).
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tollgate")
    }

    @Test func sigtermFinishesInFlightRequestsThenExitsZero() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let port = try await freePort()
        let configFile = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-shutdown-\(UUID().uuidString).yaml")
        try """
        server: {host: 127.0.0.1, port: \(port), shutdown_grace_seconds: 10}
        log: {level: info, format: text}
        outbound:
          servers:
            slow: {url: "\(peer.upstreamURL)", token_endpoint: "\(peer.tokenURL)", client_id: c, client_secret: s}
        admin: {auth_mode: none}
        """.write(to: configFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configFile) }

        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--config", configFile.path]
        process.standardError = FileHandle.nullDevice
        try #require(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build the tollgate product first")
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        defer { Task { try? await client.shutdown() } }
        let base = "http://127.0.0.1:\(port)"
        @Sendable func status(_ path: String) async throws -> UInt {
            let response = try await client.execute(HTTPClientRequest(url: base + path), timeout: .seconds(20))
            _ = try await response.body.collect(upTo: 1 << 20)
            return UInt(response.status.code)
        }
        try await waitUntil(seconds: 30) { (try? await status("/ready")) == 200 }

        // A request that takes 2 s upstream, then SIGTERM while it is in flight.
        let inFlight = Task { try await status("/proxy/slow/slow") }
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, SIGTERM)
        #expect(try await inFlight.value == 200)

        try await waitUntil(seconds: 15) { !process.isRunning }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }
}
