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
    @Test func sigtermFinishesInFlightRequestsThenExitsZero() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tollgate = try await TollgateProcess.start(
            config: """
                log: {level: info, format: text}
                outbound:
                  servers:
                    slow: {url: "\(peer.upstreamURL)", token_endpoint: "\(peer.tokenURL)", client_id: c, client_secret: s}
                admin: {auth_mode: none}
                """, server: "shutdown_grace_seconds: 10")
        defer { Task { await tollgate.stop() } }
        let process = tollgate.process

        // A request that takes 2 s upstream, then SIGTERM while it is in flight.
        let inFlight = Task { try await tollgate.status("/proxy/slow/slow") }
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, SIGTERM)
        #expect(try await inFlight.value == 200)

        try await waitUntil(seconds: 15) { !process.isRunning }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }
}
