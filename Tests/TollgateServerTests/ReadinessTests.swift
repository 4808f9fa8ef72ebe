import Foundation
import Synchronization
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// Readiness gates start-up, then follows this replica's own faults only: an outbound token
/// outage after start shows on `/health`, not on `/ready` (unless `server.readiness: continuous`).
@Suite("readiness")
struct ReadinessTests {
    static func startWithOutage(_ mode: ReadinessMode) async throws -> (RunningTollgate, PeerServer) {
        let peer = try await PeerServer.start()
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.server.readiness = mode
            config.outbound.servers = ["peer": peerServer(peer) { $0.retry.maxDelayMS = 60_000 }]
        }
        #expect(try await tg.get("/ready").status == 200, "the start-up gate: a first token held")
        // The peer's token endpoint fails from now on and the token runs out.
        peer.script(.status(500), .status(500), .status(500), .status(500), .status(500), .status(500), .status(500), .status(500))
        tg.clock.advance(by: 7200)
        try await waitUntil { !(tg.app.outbound["peer"]?.status.tokenValid ?? true) }
        return (tg, peer)
    }

    @Test func anOutboundOutageAfterStartShowsOnHealthNotReady() async throws {
        let (tg, peer) = try await Self.startWithOutage(.startup)
        defer {
            Task {
                await tg.stop(); await peer.stop()
            }
        }
        #expect(try await tg.get("/ready").status == 200, "not a fault of this replica")
        let health = try await tg.get("/health")
        #expect(health.status == 200 && health.json["status"] as? String == "healthy")
        #expect((health.json["degraded"] as? [String])?.contains { $0.hasPrefix("outbound peer: no valid token") } == true, "\(health.body)")
        let servers = try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader).body
        #expect(servers.contains(#""token_valid":false"#), "the status API shows it too")
    }

    @Test func continuousReadinessKeepsTheFormerBehaviour() async throws {
        let (tg, peer) = try await Self.startWithOutage(.continuous)
        defer {
            Task {
                await tg.stop(); await peer.stop()
            }
        }
        let ready = try await tg.get("/ready")
        #expect(ready.status == 503 && ready.body.contains("outbound peer: no valid token"))
    }

    @Test func theIndexNamesTheServiceAndItsProbes() async throws {
        let tg = try await RunningTollgate.start()
        defer { Task { await tg.stop() } }
        let index = try await tg.get("/")
        #expect(index.status == 200 && index.json["service"] as? String == "tollgate" && index.json["version"] as? String == TollgateVersion.string)
        #expect(index.json["links"] as? [String: String] == ["health": "/health", "ready": "/ready", "metrics": "/metrics"])
        let metrics = try await tg.get("/metrics").body
        #expect(metrics.contains(#"tollgate_build_info{version="\#(TollgateVersion.string)",revision="#))
        #expect(TollgateMetrics.revision(["TOLLGATE_REVISION": "9beb9eb"]) == "9beb9eb")
        #expect(TollgateMetrics.revision(["TOLLGATE_REVISION": "x\"} 1\nfake 2"]) == "unknown", "never a label injection")
    }
}
