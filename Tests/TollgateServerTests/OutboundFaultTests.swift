import Crypto
import Foundation
import JWTKit
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// A token endpoint that misbehaves in every way seen in the field, written in the test.
@Suite("outbound token endpoint faults")
struct OutboundFaultTests {
    static func start(
        _ peer: PeerServer, clock: ManualClock = ManualClock(running: true),
        _ adjust: @escaping (inout OutboundServerConfig) -> Void = { _ in }
    ) async throws -> RunningTollgate {
        try await RunningTollgate.start(waitReady: false, clock: clock) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = ["peer": peerServer(peer, adjust)]
        }
    }

    static func serverStatus(_ tg: RunningTollgate) async throws -> [String: Any] {
        let list = try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader).json["servers"] as? [[String: Any]]
        return list?.first ?? [:]
    }

    static func assertNoSecrets(_ tg: RunningTollgate) {
        #expect(!tg.logs.text.contains("peer-client-secret-XYZ"))
        #expect(!tg.logs.text.contains("peer-token-"))
    }

    @Test(arguments: [
        PeerServer.Reply.status(500, #"{"error":"server_error"}"#),
        .status(503),
        .status(200),
        .status(200, "<html><body>Sign in</body></html>", headers: [("Content-Type", "text/html")]),
        .status(200, #"{"token_type":"Bearer","expires_in":3600}"#),
        .status(200, #"{"access_token":"x","expires_in":"soon"}"#),
        .status(200, #"{"access_token":"x","expires_in":3600"#),
    ])
    func transientFailuresAreRetriedOnce(_ first: PeerServer.Reply) async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        peer.script(first)
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        #expect(peer.tokenRequests.count == 2)
        let token = try await tg.get("/token/peer", headers: apiKeyHeader)
        #expect(token.status == 200)
        #expect((token.json["access_token"] as? String)?.hasPrefix("peer-token-2-") == true)
        #expect(try await tg.get("/ready").status == 200)
        Self.assertNoSecrets(tg)
    }

    @Test(arguments: [
        (PeerServer.Reply.status(401, #"{"error":"invalid_client","error_description":"bad secret peer-client-secret-XYZ"}"#), "invalid_client"),
        (.status(403), "HTTP 403"),
        (.status(400, #"{"error":"invalid_scope"}"#), "invalid_scope"),
        (.status(400, #"{"error":"unauthorized_client"}"#), "unauthorized_client"),
        (.status(200, #"{"access_token":"x","token_type":"DPoP"}"#), "not Bearer"),
    ])
    func clientErrorsAreNotRetried(_ reply: PeerServer.Reply, _ expected: String) async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        peer.script(reply, reply, reply)
        // The background refresher waits max_delay after a refusal: longer than this test runs.
        let tg = try await Self.start(peer) { $0.retry.maxDelayMS = 60_000 }
        defer { Task { await tg.stop() } }
        try await waitUntil { try await Self.serverStatus(tg)["last_error"] is String }
        try await Task.sleep(for: .milliseconds(500))
        #expect(peer.tokenRequests.count == 1)
        let status = try await Self.serverStatus(tg)
        let lastError = status["last_error"] as? String ?? ""
        #expect(lastError.contains("client_error"))
        #expect(lastError.contains(expected))
        #expect(status["has_token"] as? Bool == false)
        let ready = try await tg.get("/ready")
        #expect(ready.status == 503)
        #expect((ready.json["reasons"] as? [String])?.contains { $0.hasPrefix("outbound peer: no valid token") } == true)
        Self.assertNoSecrets(tg)
    }

    /// Audit defect 2: `"expires_in": 1e19` trapped in an `Int(...)` conversion and the process died
    /// (and again at every start). Lifetimes from the network are capped, never converted blindly.
    @Test func hugeExpiresInIsCappedNotATrap() async throws {
        for raw in ["1e19", "1e308", #""1e19""#, "9223372036854775808", "3e10"] {
            let peer = try await PeerServer.start()
            peer.setDefaultExpiresIn(raw)
            let tg = try await Self.start(peer)
            try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
            let expiresIn = try await tg.get("/token/peer", headers: apiKeyHeader).json["expires_in"] as? Int ?? 0
            #expect((3600...31_622_400).contains(expiresIn), "expires_in \(raw) → \(expiresIn)")
            #expect(try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader).status == 200)
            #expect(try await tg.post("/dicomweb-oauth/servers/peer/test", body: [], headers: apiKeyHeader).status == 200)
            #expect(try await tg.get("/metrics").status == 200)
            #expect(try await tg.get("/health").status == 200)
            await tg.stop()
            await peer.stop()
        }
    }

    /// Audit defect 3: an endpoint that echoes the credentials it was sent. Neither the `error`
    /// member nor `error_description` may carry them to `/ready` (unauthenticated), the log, the
    /// status API, `/test` or the proxy's TOKEN_UNAVAILABLE body — raw, form-encoded or as Basic.
    @Test func credentialsEchoedByTheEndpointNeverLeak() async throws {
        let secret = "s3cr3t+/=&weird-value"
        let formEncoded = FormEncoding.encode(secret)
        let basic = Data(("orthanc-out:" + formEncoded).utf8).base64EncodedString()
        let echo =
            #"{"error":"\#(secret)","error_description":"got secret \#(secret), form \#(formEncoded), header Basic \#(basic) and x9aB3kLmN0pQrStUvWxYz12345678"}"#
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        peer.script(.status(401, echo), .status(401, echo), .status(401, echo), .status(401, echo))
        let tg = try await Self.start(peer) {
            $0.clientSecret = Secret(secret); $0.retry.maxDelayMS = 60_000
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { try await Self.serverStatus(tg)["last_error"] is String }
        let answers = [
            try await tg.get("/ready").body,
            try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader).body,
            try await tg.post("/dicomweb-oauth/servers/peer/test", body: [], headers: apiKeyHeader).body,
            try await tg.get("/proxy/peer/studies", headers: apiKeyHeader).body,
            try await tg.get("/token/peer", headers: apiKeyHeader).body,
            tg.logs.text,
        ]
        for (index, text) in answers.enumerated() {
            for leaked in [secret, formEncoded, basic, String(basic.dropLast(2)), "x9aB3kLmN0pQrStUvWxYz12345678"] {
                #expect(!text.contains(leaked), "answer \(index) carries \(leaked): \(text.prefix(300))")
            }
        }
        #expect(answers[0].contains("outbound peer: no valid token (client_error (HTTP 401))"))
        #expect(answers[1].contains("client_error"))
    }

    @Test func unusableExpiresInFallsBackToTheDefault() async throws {
        for (raw, expected) in [(#""1800""#, 1800), ("0", 1234), (nil, 1234), ("-5", 1234), ("7200.0", 7200)] as [(String?, Int)] {
            let peer = try await PeerServer.start()
            peer.setDefaultExpiresIn(raw)
            // Tollgate's clock stands still, so the lifetime read back is the one it assumed, exactly.
            let tg = try await Self.start(peer, clock: ManualClock()) { $0.defaultExpiresIn = 1234 }
            try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
            let expiresIn = try await tg.get("/token/peer", headers: apiKeyHeader).json["expires_in"] as? Int ?? 0
            #expect(expiresIn == expected, "expires_in \(raw ?? "absent")")
            #expect(peer.tokenRequests.count == 1)
            await tg.stop()
            await peer.stop()
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        peer.script(.status(429, #"{"error":"slow_down"}"#, headers: [("Retry-After", "1")]))
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        let requests = peer.tokenRequests
        #expect(requests.count == 2)
        #expect(requests[1].at - requests[0].at >= .milliseconds(950))
        #expect(try await tg.metric(#"tollgate_token_fetch_total{server="peer",result="rate_limited"}"#) == 1)
        #expect(try await tg.metric(#"tollgate_token_fetch_total{server="peer",result="success"}"#) == 1)
    }

    @Test func slowEndpointTimesOutAfterEveryAttempt() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let slow = PeerServer.Reply.status(200, delayMS: 1500)
        peer.script(slow, slow, slow, slow, slow, slow)
        let tg = try await Self.start(peer, clock: ManualClock()) { server in
            server.timeoutMS = 200
            server.circuitBreaker.failureThreshold = 100
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { (try await Self.serverStatus(tg)["last_error"] as? String)?.hasPrefix("timeout") == true }
        #expect(peer.tokenRequests.count == 3)
        #expect(try await tg.metric(#"tollgate_token_fetch_total{server="peer",result="timeout"}"#) == 3)
        let answer = try await tg.get("/token/peer", headers: apiKeyHeader)
        #expect(answer.status == 503)
        #expect(answer.json["error"] as? String == "TOKEN_UNAVAILABLE")
        Self.assertNoSecrets(tg)
    }

    @Test func downEndpointGivesTokenUnavailable() async throws {
        let closed = try await freePort()
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { server in
            server.tokenEndpoint = "http://127.0.0.1:\(closed)/token"
            server.timeoutMS = 500
            server.retry.maxAttempts = 2
            server.circuitBreaker.failureThreshold = 100
        }
        defer { Task { await tg.stop() } }
        let answer = try await tg.get("/token/peer", headers: apiKeyHeader)
        #expect(answer.status == 503)
        #expect(answer.json["error"] as? String == "TOKEN_UNAVAILABLE")
        let message = answer.json["message"] as? String ?? ""
        #expect(message.contains("unreachable") || message.contains("timeout"))
        let proxied = try await tg.get("/proxy/peer/studies", headers: apiKeyHeader)
        #expect(proxied.status == 503)
        #expect(proxied.json["error"] as? String == "TOKEN_UNAVAILABLE")
        #expect(peer.upstreamRequests.isEmpty)
        #expect(try await tg.get("/ready").status == 503)
        #expect(try await tg.get("/health").status == 200)
    }

    @Test func circuitBreakerOpensThenProbesAndCloses() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        peer.script(.status(500), .status(500))
        let clock = ManualClock()
        let tg = try await Self.start(peer, clock: clock) { server in
            server.retry.maxAttempts = 1
            server.circuitBreaker.failureThreshold = 2
            server.circuitBreaker.openSeconds = 30
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { peer.tokenRequests.count == 1 }
        try await waitUntil { try await Self.serverStatus(tg)["last_error"] is String }
        #expect(try await tg.get("/token/peer", headers: apiKeyHeader).json["error"] as? String == "TOKEN_UNAVAILABLE")
        #expect(peer.tokenRequests.count == 2)
        for _ in 0..<20 {
            let refused = try await tg.get("/token/peer", headers: apiKeyHeader)
            #expect(refused.status == 503)
            #expect(refused.json["error"] as? String == "CIRCUIT_OPEN")
            #expect(refused.header("Retry-After") != nil)
        }
        #expect(peer.tokenRequests.count == 2)
        #expect(try await Self.serverStatus(tg)["circuit_state"] as? String == "open")
        #expect(try await tg.metric(#"tollgate_circuit_breaker_state{server="peer",kind="token"}"#) == 1)
        clock.advance(by: 31)
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        #expect(peer.tokenRequests.count == 3)
        #expect(try await Self.serverStatus(tg)["circuit_state"] as? String == "closed")
        #expect(try await tg.get("/token/peer", headers: apiKeyHeader).status == 200)
    }

    @Test func failedRefreshKeepsServingTheCurrentTokenUntilItExpires() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let clock = ManualClock()
        let tg = try await Self.start(peer, clock: clock) { server in
            server.refreshBufferSeconds = 300
            server.retry.maxAttempts = 1
            server.circuitBreaker.failureThreshold = 100
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        let first = try await tg.get("/token/peer", headers: apiKeyHeader).json["access_token"] as? String
        for _ in 0..<50 { peer.script(.status(500)) }
        clock.advance(by: 3330)  // past the refresh point, before expiry
        try await waitUntil { (try await Self.serverStatus(tg)["last_error"] as? String)?.contains("server_error") == true }
        let during = try await tg.get("/token/peer", headers: apiKeyHeader)
        #expect(during.status == 200)
        #expect(during.json["access_token"] as? String == first)
        #expect(try await tg.get("/ready").status == 200)
        clock.advance(by: 270)  // now past expiry
        let after = try await tg.get("/token/peer", headers: apiKeyHeader)
        #expect(after.status == 503)
        #expect(after.json["error"] as? String == "TOKEN_UNAVAILABLE")
        #expect(!after.body.contains(first ?? "-"))
        #expect(try await tg.get("/ready").status == 200, "the token endpoint's outage, not this replica's")
        #expect((try await tg.get("/health").json["degraded"] as? [String])?.contains { $0.hasPrefix("outbound peer: no valid token") } == true)
    }

    @Test func concurrentCallersShareOneAcquisition() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer, clock: ManualClock())
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        peer.script(.status(200, #"{"access_token":"peer-token-slow","token_type":"bearer","expires_in":60}"#, delayMS: 300))
        _ = try await tg.post("/token/clear", body: [], headers: apiKeyHeader)
        let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<200 { group.addTask { try await tg.get("/token/peer", headers: apiKeyHeader).json["access_token"] as? String } }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(tokens == ["peer-token-slow"])
        #expect(peer.tokenRequests.count == 2)
    }

    @Test func privateKeyJWTSendsAFreshSignedAssertion() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let key = P256.Signing.PrivateKey()
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-test-\(UUID().uuidString).pem").path
        try key.pemRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let tg = try await Self.start(peer) { server in
            server.authMethod = .privateKeyJWT
            server.clientSecret = nil
            server.privateKeyFile = keyFile
            server.keyID = "orthanc-key-1"
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        _ = try await tg.post("/dicomweb-oauth/servers/peer/test", body: [], headers: apiKeyHeader)
        let requests = peer.tokenRequests
        #expect(requests.count == 2)
        let keys = await JWTKeyCollection().add(ecdsa: try ES256PublicKey(pem: key.publicKey.pemRepresentation), kid: "orthanc-key-1")
        var ids: Set<String> = []
        for request in requests {
            #expect(request.authorization == nil)
            #expect(request.form["grant_type"] == "client_credentials")
            #expect(request.form["client_id"] == "orthanc-out")
            #expect(request.form["client_secret"] == nil)
            #expect(request.form["scope"] == "dicom.read")
            #expect(request.form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            let assertion = try await keys.verify(request.form["client_assertion"] ?? "", as: ClientAssertion.self)
            #expect(assertion.iss.value == "orthanc-out")
            #expect(assertion.sub.value == "orthanc-out")
            #expect(assertion.aud.value == [peer.tokenURL])
            #expect(assertion.exp.value.timeIntervalSince(assertion.iat.value) <= 300)
            ids.insert(assertion.jti.value)
        }
        #expect(ids.count == 2)
    }

    @Test func clientSecretBasicFormEncodesBeforeBase64() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { server in
            server.clientID = "orthanc:out"
            server.clientSecret = Secret("p@ss word+&=")
            server.resource = "https://dicom.example.org/"
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        let request = try #require(peer.tokenRequests.first)
        let basic = Data(base64Encoded: String(request.authorization?.dropFirst("Basic ".count) ?? "")).map { String(decoding: $0, as: UTF8.self) }
        #expect(basic == "orthanc%3Aout:p%40ss+word%2B%26%3D")
        #expect(request.form["resource"] == "https://dicom.example.org/")
        #expect(request.form["client_id"] == nil)
    }
}
