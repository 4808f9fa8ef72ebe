import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// Pushing DICOMweb server definitions into a (fake, in-memory like the real one) Orthanc.
@Suite("Orthanc push")
struct OrthancPushTests {
    /// Moves each instance's clock past the check interval and lets its pusher look, `rounds`
    /// times: what a quiet stretch of real seconds would do, without waiting for it.
    static func checkRounds(_ peer: PeerServer, _ instances: RunningTollgate..., rounds: Int = 4) async {
        let before = peer.orthancChecks
        for _ in 0..<rounds {
            for tg in instances {
                tg.clock.advance(by: 2)
                await tg.app.pusher.tendAll()
            }
        }
        // A round that joined one the pusher's own loop had started may not check; most do.
        #expect(peer.orthancChecks > before, "the pusher looked at Orthanc")
    }

    static func start(_ peer: PeerServer, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await RunningTollgate.start(waitReady: false, clock: ManualClock(running: true)) { config in
            let base = "http://127.0.0.1:\(config.server.port)"
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            var server = OutboundServerConfig(
                url: "http://peer-b:8042/dicom-web/", tokenEndpoint: base + "/dev-issuer/token",
                clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret")
            server.retry.baseDelayMS = 20
            config.outbound.servers = ["orthanc-b": server]
            config.orthanc.url = peer.base
            config.orthanc.checkIntervalSeconds = 1
            config.orthanc.dicomwebServers = [
                "b": OrthancDicomWebServerConfig(outboundServer: "orthanc-b", extra: ["HasDelete": .bool(true), "Timeout": .number(30)])
            ]
            adjust(&config)
        }
    }

    static func pushStatus(_ tg: RunningTollgate) async throws -> [String: Any] {
        let servers = try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader).json["servers"] as? [[String: Any]]
        return (servers?.first?["orthanc_push"] as? [[String: Any]])?.first ?? [:]
    }

    /// Seed 004's site header goes to Orthanc with the token, so Orthanc's own DICOMweb client sends it too.
    @Test func staticHeadersArePushedWithTheToken() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { config in
            config.outbound.servers["orthanc-b"]?.headers = ["Rp-Vna-Site-Id": "site-42", "Accept": "application/dicom+json"]
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { peer.orthancDefinition("b") != nil }
        let headers = try #require(peer.orthancDefinition("b")?["HttpHeaders"] as? [String: String])
        #expect(headers["Rp-Vna-Site-Id"] == "site-42")
        #expect(headers["Accept"] == "application/dicom+json")
        #expect(headers["Authorization"]?.hasPrefix("Bearer ") == true)
        #expect(headers.count == 3)
    }

    @Test func fullDefinitionIsPushedAndKeptCurrent() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        try await waitUntil { peer.orthancDefinition("b") != nil }
        let definition = try #require(peer.orthancDefinition("b"))
        #expect(definition["Url"] as? String == "http://peer-b:8042/dicom-web/")
        #expect(definition["HasDelete"] as? Bool == true)
        #expect(definition["Timeout"] as? Int == 30)
        let headers = definition["HttpHeaders"] as? [String: String] ?? [:]
        let token = try await tg.get("/token/orthanc-b", headers: apiKeyHeader).json["access_token"] as? String ?? "-"
        #expect(headers["Authorization"] == "Bearer " + token)
        #expect(headers.keys.sorted() == ["Authorization"], "the expiry marker is a user property: Orthanc never sends it to the peer")
        #expect(Double(definition["TollgateTokenExpires"] as? String ?? "") != nil)
        try await waitUntil { try await Self.pushStatus(tg)["current"] as? Bool == true }
        #expect(try await tg.get("/ready").status == 200)

        // A new token is pushed.
        _ = try await tg.post("/token/clear", body: [], headers: apiKeyHeader)
        try await waitUntil { (peer.orthancDefinition("b")?["HttpHeaders"] as? [String: String])?["Authorization"] != "Bearer " + token }
        #expect(peer.orthancPuts.count == 2)

        // Orthanc restarts and forgets: the periodic check notices and pushes again.
        peer.restartOrthanc()
        try await waitUntil { peer.orthancDefinition("b") != nil }
        #expect(peer.orthancPuts.count == 3)
        // Quiet while nothing changes.
        await Self.checkRounds(peer, tg)
        #expect(peer.orthancPuts.count == 3)
        #expect(try await tg.metric(#"tollgate_orthanc_push_total{orthanc_server="b",result="success"}"#) == 3)
        #expect(!tg.logs.text.contains(token))
    }

    /// Two replicas pushing into one Orthanc: each pushes its own token once, then both see a
    /// definition that is good for long enough and leave it alone.
    /// Orthanc stores `Url` with a trailing '/': a configured URL without one must not look stale
    /// at every check. The DICOMweb root is Orthanc's, not a fixed `/dicom-web/`.
    @Test func urlWithoutTrailingSlashAndCustomRootStayQuiet() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { config in
            config.orthanc.dicomWebRoot = "/dicomweb-root/"
            config.orthanc.dicomwebServers["b"]?.url = "http://peer-b:8042/dicom-web"
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { peer.orthancDefinition("b") != nil }
        #expect(peer.orthancDefinition("b")?["Url"] as? String == "http://peer-b:8042/dicom-web/")
        try await waitUntil { try await Self.pushStatus(tg)["current"] as? Bool == true }
        await Self.checkRounds(peer, tg)
        #expect(peer.orthancPuts.count == 1)
    }

    @Test func replicasSharingAnOrthancDoNotUndoEachOthersPushes() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let first = try await Self.start(peer)
        defer { Task { await first.stop() } }
        let second = try await Self.start(peer)
        defer { Task { await second.stop() } }
        try await waitUntil { peer.orthancPuts.count >= 2 }
        await Self.checkRounds(peer, first, second)
        #expect(peer.orthancPuts.count == 2)
    }

    @Test func orthancErrorsAreRetriedAndSurfaced() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        peer.scriptOrthanc(400, 401, 500)
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        try await waitUntil { try await Self.pushStatus(tg)["last_error"] as? String == "Orthanc answered HTTP 401" }
        try await waitUntil { peer.orthancDefinition("b") != nil }
        // The fake stores the definition before it answers; Tollgate records the success once the
        // answer arrives. Wait for that, not for the fake.
        try await waitUntil { try await Self.pushStatus(tg)["current"] as? Bool == true }
        #expect(peer.orthancPuts.count == 4)
        let status = try await Self.pushStatus(tg)
        #expect(status["current"] as? Bool == true)
        #expect(status["last_error"] is NSNull)
        #expect(try await tg.metric(#"tollgate_orthanc_push_total{orthanc_server="b",result="error"}"#) == 3)
    }

    @Test func orthancDownIsNotAReadinessProblemUnlessConfigured() async throws {
        let closed = try await freePort()
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { $0.orthanc.url = "http://127.0.0.1:\(closed)" }
        defer { Task { await tg.stop() } }
        try await waitUntil { try await tg.get("/ready").status == 200 }
        try await waitUntil { (try await Self.pushStatus(tg)["last_error"] as? String)?.contains("unreachable") == true }

        let strict = try await Self.start(peer) { config in
            config.orthanc.url = "http://127.0.0.1:\(closed)"
            config.orthanc.readyRequiresPush = true
        }
        defer { Task { await strict.stop() } }
        try await strict.waitForNotReadyReason(containing: "orthanc b: definition not pushed")
    }
}
