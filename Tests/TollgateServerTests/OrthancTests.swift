import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// The orthanc-authorization web-service protocol over loopback, with the dev issuer.
@Suite("Orthanc authorization protocol")
struct OrthancAuthTests {
    static func validate(_ tg: RunningTollgate, _ fields: [String: Any], headers: [(String, String)] = []) async throws -> RunningTollgate.Answer {
        let body = try JSONSerialization.data(withJSONObject: fields)
        return try await tg.post("/tokens/validate", body: Array(body), headers: [("Content-Type", "application/json")] + headers)
    }

    @Test func authenticationOnlyGrantsEveryMethodToValidTokens() async throws {
        let tg = try await RunningTollgate.start()
        defer { Task { await tg.stop() } }
        let token = try await tg.token(scope: "read")
        for method in ["get", "post", "put", "delete"] {
            let answer = try await Self.validate(tg, ["method": method, "level": "study", "token-key": "Authorization", "token-value": "Bearer " + token])
            #expect(answer.json["granted"] as? Bool == true)
            #expect((299...300).contains(answer.json["validity"] as? Int ?? -1))
        }
        // The token in a header named by token-key, as the official plugin also sends it.
        let viaHeader = try await Self.validate(tg, ["method": "get", "level": "system", "uri": "/system", "token-key": "token"], headers: [("token", token)])
        #expect(viaHeader.json["granted"] as? Bool == true)
        let garbage = try await Self.validate(tg, ["method": "get", "level": "system", "token-key": "Authorization", "token-value": "Bearer garbage"])
        #expect(garbage.json["granted"] as? Bool == false)
        #expect(garbage.json["validity"] as? Int == 10)
        let none = try await Self.validate(tg, ["method": "get", "level": "system"])
        #expect(none.json["granted"] as? Bool == false)
        #expect(none.json["validity"] as? Int == 0)
        for (method, level) in [("patch", "study"), ("get", "universe"), ("GET", "")] {
            let odd = try await Self.validate(tg, ["method": method, "level": level, "token-value": token])
            #expect(odd.status == 200)
            #expect(odd.json["granted"] as? Bool == false, "\(method) \(level)")
        }
        #expect(!tg.logs.text.contains(token))
    }

    /// Audit defect 7: a token refused by policy alone (its `nbf` 60 s ahead) sits in the cache as
    /// an active entry; its refusal must not be reported valid for that entry's life (299 s), or
    /// Orthanc caches the refusal for 5 minutes. A denial's validity is at most negative_ttl.
    @Test func denialValidityNeverExceedsTheNegativeTTL() async throws {
        let forge = TokenForge()
        let tg = try await JWTTests.start(forge)
        defer { Task { await tg.stop() } }
        let iss = tg.app.devIssuer!.issuerURL
        let early = forge.valid(issuer: iss, now: tg.clock.now(), claims: ["nbf": Int(tg.clock.now()) + 60])
        for _ in 0..<2 {
            let answer = try await Self.validate(tg, ["method": "get", "level": "system", "token-value": "Bearer " + early])
            #expect(answer.json["granted"] as? Bool == false)
            #expect((0...10).contains(answer.json["validity"] as? Int ?? -1), "\(answer.body)")
        }
        let good = forge.valid(issuer: iss, now: tg.clock.now())
        let granted = try await Self.validate(tg, ["method": "get", "level": "system", "token-value": "Bearer " + good])
        #expect(granted.json["granted"] as? Bool == true)
        #expect((299...300).contains(granted.json["validity"] as? Int ?? -1))
    }

    @Test func malformedRequestsGetAJSONError() async throws {
        let tg = try await RunningTollgate.start()
        defer { Task { await tg.stop() } }
        for body in [#"{"level":"study","token-value":"x"}"#, #"{"method":"get"}"#, "not json", #"["get"]"#] {
            let answer = try await tg.post("/tokens/validate", body: Array(body.utf8), headers: [("Content-Type", "application/json")])
            #expect(answer.status == 400, "\(body)")
            #expect(answer.json["error"] is String)
        }
        let huge = try await tg.post("/tokens/validate", body: Array(repeating: 0x20, count: 70_000))
        #expect(huge.status == 413)
        #expect(try await tg.get("/health").status == 200)
    }

    @Test func permissionsMapScopesToMethodsAndLevels() async throws {
        let tg = try await RunningTollgate.start { config in
            var permissions = PermissionsConfig(roles: ["read": ["get"], "write": ["get", "post", "put", "delete"], "admin": ["admin"]])
            permissions.required["system:delete"] = "admin"
            permissions.labels = ["read": ["public"]]
            config.orthanc.permissions = permissions
        }
        defer { Task { await tg.stop() } }
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        let writer = try await tg.token(scope: "write")
        func granted(_ token: String, _ method: String, _ level: String) async throws -> Bool? {
            try await Self.validate(tg, ["method": method, "level": level, "token-value": "Bearer " + token]).json["granted"] as? Bool
        }
        #expect(try await granted(reader, "get", "study") == true)
        #expect(try await granted(reader, "post", "instance") == false)
        #expect(try await granted(writer, "post", "instance") == true)
        #expect(try await granted(writer, "delete", "study") == true)
        #expect(try await granted(writer, "delete", "system") == false)

        let profile = try await tg.post("/user/get-profile", body: Array(#"{"token-key":"Authorization","token-value":"Bearer \#(reader)"}"#.utf8))
        #expect(profile.json["name"] as? String == "reader")
        #expect(profile.json["user-id"] as? String == "reader")
        #expect(profile.json["permissions"] as? [String] == ["get"])
        #expect(profile.json["authorized-labels"] as? [String] == ["public"])
        #expect(profile.json["groups"] as? [String] == ["read"])
        #expect((299...300).contains(profile.json["validity"] as? Int ?? -1))
        let writerProfile = try await tg.post("/user/get-profile", body: Array(#"{"token-value":"\#(writer)"}"#.utf8))
        #expect(writerProfile.json["authorized-labels"] as? [String] == [])
        let nobody = try await tg.post("/user/get-profile", body: Array(#"{"token-value":"Bearer nope"}"#.utf8))
        #expect(nobody.json["permissions"] as? [String] == [])
        #expect(try await tg.post("/user/get-profile", body: Array(#"{"user-id":"reader"}"#.utf8)).status == 400)
    }

    /// `expired` needs a verdict from the token itself: JWTs verified locally (introspection
    /// only says "not active").
    @Test func decodeReportsExpiredInvalidAndUnknown() async throws {
        let tg = try await RunningTollgate.start { $0.inbound.issuers[0].mode = .auto }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        let valid = try await tg.post("/tokens/decode", body: Array(#"{"token-key":"Authorization","token-value":"Bearer \#(token)"}"#.utf8))
        #expect(valid.json["error-code"] == nil)
        #expect(valid.json["token-type"] as? String == "bearer")
        #expect(try await tg.post("/tokens/decode", body: Array(#"{"token-value":"junk"}"#.utf8)).json["error-code"] as? String == "invalid")
        #expect(try await tg.post("/tokens/decode", body: Array(#"{}"#.utf8)).json["error-code"] as? String == "unknown")
        tg.clock.advance(by: 3700) // past exp + leeway, within the JWKS's stale allowance
        #expect(try await tg.post("/tokens/decode", body: Array(#"{"token-value":"\#(token)"}"#.utf8)).json["error-code"] as? String == "expired")
    }

    @Test func webserviceBasicCredentialsAreRequiredWhenSet() async throws {
        let tg = try await RunningTollgate.start { config in
            config.orthanc.webserviceUsername = "orthanc"
            config.orthanc.webservicePassword = Secret("plugin-password")
        }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        let body = Array(#"{"method":"get","level":"system","token-key":"token","token-value":"\#(token)"}"#.utf8)
        let open = try await tg.post("/tokens/validate", body: body)
        #expect(open.status == 401)
        #expect(open.header("WWW-Authenticate") == #"Basic realm="tollgate""#)
        let wrong = try await tg.post("/tokens/validate", body: body, headers: [("Authorization", "Basic " + Data("orthanc:nope".utf8).base64EncodedString())])
        #expect(wrong.status == 401)
        let right = try await tg.post("/tokens/validate", body: body, headers: [("Authorization", "Basic " + Data("orthanc:plugin-password".utf8).base64EncodedString())])
        #expect(right.json["granted"] as? Bool == true)
    }
}

/// Pushing DICOMweb server definitions into a (fake, in-memory like the real one) Orthanc.
@Suite("Orthanc push")
struct OrthancPushTests {
    static func start(_ peer: PeerServer, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await RunningTollgate.start(waitReady: false, clock: ManualClock(running: true)) { config in
            let base = "http://127.0.0.1:\(config.server.port)"
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            var server = OutboundServerConfig(url: "http://peer-b:8042/dicom-web/", tokenEndpoint: base + "/dev-issuer/token",
                                              clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret")
            server.retry.baseDelayMS = 20
            config.outbound.servers = ["orthanc-b": server]
            config.orthanc.url = peer.base
            config.orthanc.checkIntervalSeconds = 1
            config.orthanc.dicomwebServers = ["b": OrthancDicomWebServerConfig(outboundServer: "orthanc-b", extra: ["HasDelete": .bool(true), "Timeout": .int(30)])]
            adjust(&config)
        }
    }

    static func pushStatus(_ tg: RunningTollgate) async throws -> [String: Any] {
        let servers = try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader).json["servers"] as? [[String: Any]]
        return (servers?.first?["orthanc_push"] as? [[String: Any]])?.first ?? [:]
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
        #expect(headers.keys.contains { $0.hasPrefix("X-Tollgate-Token-Expires-") })
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
        try await Task.sleep(for: .milliseconds(2500))
        #expect(peer.orthancPuts.count == 3)
        #expect(try await tg.metric(#"tollgate_orthanc_push_total{orthanc_server="b",result="success"}"#) == 3)
        #expect(!tg.logs.text.contains(token))
    }

    /// Two replicas pushing into one Orthanc: each pushes its own token once, then both see a
    /// definition that is good for long enough and leave it alone.
    @Test func replicasSharingAnOrthancDoNotUndoEachOthersPushes() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let first = try await Self.start(peer)
        defer { Task { await first.stop() } }
        let second = try await Self.start(peer)
        defer { Task { await second.stop() } }
        try await waitUntil { peer.orthancPuts.count >= 2 }
        try await Task.sleep(for: .milliseconds(3500))
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
