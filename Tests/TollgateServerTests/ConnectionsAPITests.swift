import Foundation
import Testing
@testable import TollgateDevIssuer
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// Seed 002's connection API over loopback: client-credentials connections made at run time
/// against the dev issuer, kept sealed in SQLite.
@Suite("runtime connections API")
struct ConnectionsAPITests {
    static func start(directory: String, key: String, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.registry.enabled = true
            config.registry.sqlite.path = directory + "/registry.sqlite"
            config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(key))]
            adjust(&config)
        }
    }

    static func createBody(_ tg: RunningTollgate, name: String = "pacs", secret: String = "tollgate-dev-secret", scopes: String = "read") -> String {
        #"{"connection_name":"\#(name)","oauth_flow_type":"client_credentials","client_id":"tollgate-dev","client_secret":"\#(secret)","token_url":"\#(tg.base)/dev-issuer/token","scopes":"\#(scopes)"}"#
    }

    @Test func aConnectionMadeAtRunTimeHandsOutLiveTokensAndSurvivesARestart() async throws {
        let directory = scratchDirectory()
        let key = RegistryKeyring.generateKeyMaterial()
        let tg = try await Self.start(directory: directory, key: key)
        let devIssuer = try #require(tg.app.devIssuer)

        let created = try await tg.post("/oauth/connections", json: Self.createBody(tg), headers: apiKeyHeader)
        #expect(created.status == 201)
        #expect(created.header("ETag") == "\"1\"")
        #expect(created.json["status"] as? String == "not_connected" && created.json["has_client_secret"] as? Bool == true)
        #expect(created.json["organization"] as? String == "GLOBAL" && created.json["scopes"] as? String == "read")
        #expect(!created.body.contains("tollgate-dev-secret"))
        #expect(try await tg.post("/oauth/connections", json: Self.createBody(tg), headers: apiKeyHeader).json["error"] as? String == "CONNECTION_EXISTS")

        // Callers of many replicas' worth of concurrency: one token request.
        let before = devIssuer.requestCount(.token)
        let answers = try await withThrowingTaskGroup(of: RunningTollgate.Answer.self) { group in
            for _ in 0..<20 { group.addTask { try await tg.get("/oauth/credentials/pacs?min_ttl=60", headers: apiKeyHeader) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0.status == 200 && $0.header("Cache-Control") == "no-store" })
        let token = try #require(answers.first?.json["access_token"] as? String)
        #expect(Set(answers.compactMap { $0.json["access_token"] as? String }) == [token])
        #expect(devIssuer.requestCount(.token) == before + 1)
        #expect((answers[0].json["expires_in"] as? Int ?? 0) > 60 && answers[0].json["token_type"] as? String == "Bearer")
        #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + token)]).status == 200, "the token is real")

        // An organisation without its own connection reads GLOBAL's.
        let fallback = try await tg.get("/oauth/connections/pacs", headers: apiKeyHeader + [("X-Organization-Id", "ORG-7")])
        #expect(fallback.status == 200 && fallback.json["organization"] as? String == "GLOBAL" && fallback.json["status"] as? String == "completed")
        #expect(fallback.header("ETag") == "\"2\"")
        #expect(try await tg.get("/oauth/credentials/pacs", headers: apiKeyHeader + [("X-Organization-Id", "ORG-7")]).json["access_token"] as? String == token)
        let listed = try await tg.get("/oauth/connections", headers: apiKeyHeader + [("X-Organization-Id", "ORG-7")])
        #expect((listed.json["connections"] as? [[String: Any]])?.compactMap { $0["connection_name"] as? String } == ["pacs"])
        #expect(
            try await tg.put(
                "/oauth/connections/pacs", json: #"{"scopes":"read write"}"#, headers: apiKeyHeader + [("X-Organization-Id", "ORG-7"), ("If-Match", "\"2\"")]
            ).status == 404,
            "writes never fall back to GLOBAL")

        // Restart: the connection and its token are still there, and no new token is fetched.
        await tg.stop()
        let again = try await Self.start(directory: directory, key: key)
        defer { Task { await again.stop() } }
        let kept = try await again.get("/oauth/credentials/pacs", headers: apiKeyHeader)
        #expect(kept.json["access_token"] as? String == token)
        #expect(try #require(again.app.devIssuer).requestCount(.token) == 0)

        // Neither the token nor the secret is anywhere in the database files, or in the logs.
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory) {
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + file))
            #expect(bytes.range(of: Data(token.utf8)) == nil && bytes.range(of: Data("tollgate-dev-secret".utf8)) == nil, "\(file)")
        }
        #expect(!tg.logs.text.contains(token) && !again.logs.text.contains(token))
    }

    @Test func writesNeedTheGenerationAndAUsedConnectionStays() async throws {
        let directory = scratchDirectory()
        let tg = try await Self.start(directory: directory, key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        _ = try await tg.post("/oauth/connections", json: Self.createBody(tg), headers: apiKeyHeader)
        let first = try await tg.get("/oauth/credentials/pacs", headers: apiKeyHeader).json["access_token"] as? String

        // Without If-Match the write is last-writer-wins and the answer carries the new ETag.
        let unconditional = try await tg.put("/oauth/connections/pacs", json: #"{"description":"the PACS"}"#, headers: apiKeyHeader)
        #expect(unconditional.status == 200 && unconditional.header("ETag") == "\"3\"" && unconditional.json["description"] as? String == "the PACS")
        #expect(unconditional.json["status"] as? String == "completed", "a description is not a credential: the held token stays")
        let stale = try await tg.put("/oauth/connections/pacs", json: #"{"scopes":"read,write"}"#, headers: apiKeyHeader + [("If-Match", "\"2\"")])
        #expect(stale.status == 412 && stale.json["error"] as? String == "GENERATION_MISMATCH")
        let changed = try await tg.put("/oauth/connections/pacs", json: #"{"scopes":"read,write"}"#, headers: apiKeyHeader + [("If-Match", "\"3\"")])
        #expect(changed.status == 200 && changed.header("ETag") == "\"4\"" && changed.json["scopes"] as? String == "read write")
        #expect(changed.json["status"] as? String == "not_connected", "new settings drop the held token")
        let second = try await tg.get("/oauth/credentials/pacs", headers: apiKeyHeader)
        #expect(second.json["access_token"] as? String != first && second.json["scope"] as? String == "read write")

        let dependency = try await tg.post(
            "/oauth/connections/pacs/dependencies", json: #"{"dependent_id":"wf-1","dependent_name":"Nightly export"}"#, headers: apiKeyHeader)
        #expect(dependency.status == 201 && dependency.json["dependent_name"] as? String == "Nightly export")
        let listed = try await tg.get("/oauth/connections/pacs/dependencies", headers: apiKeyHeader)
        #expect((listed.json["dependencies"] as? [[String: Any]])?.first?["dependent_id"] as? String == "wf-1")
        let refused = try await tg.send("/oauth/connections/pacs", method: .DELETE, headers: apiKeyHeader, body: nil)
        #expect(refused.status == 409 && refused.json["error"] as? String == "CONNECTION_IN_USE")
        #expect(try await tg.send("/oauth/connections/pacs/dependencies/wf-1", method: .DELETE, headers: apiKeyHeader, body: nil).status == 204)
        #expect(try await tg.send("/oauth/connections/pacs", method: .DELETE, headers: apiKeyHeader, body: nil).status == 204)
        #expect(try await tg.get("/oauth/connections/pacs", headers: apiKeyHeader).status == 404)
        #expect(try await tg.get("/oauth/credentials/pacs", headers: apiKeyHeader).json["error"] as? String == "CONNECTION_NOT_FOUND")
    }

    @Test func badRequestsAreRefusedByNameAndTheServiceStaysUp() async throws {
        let directory = scratchDirectory()
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(directory: directory, key: RegistryKeyring.generateKeyMaterial()) { config in
            config.outbound.servers = ["static-pacs": peerServer(peer)]
        }
        defer { Task { await tg.stop() } }
        let valid = Self.createBody(tg)
        let cases: [(String, [(String, String)], Int, String)] = [
            ("not json", [], 400, "INVALID_REQUEST"),
            ("[1,2]", [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: #""scopes""#, with: #""scopez""#), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: #""client_id":"tollgate-dev""#, with: #""client_id":42"#), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: #""client_id":"tollgate-dev""#, with: #""client_id":"a\u0000b""#), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: "\(tg.base)/dev-issuer/token", with: "file:///etc/passwd"), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: #""pacs""#, with: #""../etc""#), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: "client_credentials", with: "authorization_code"), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: "client_credentials", with: "password"), [], 400, "INVALID_REQUEST"),
            (valid.replacingOccurrences(of: #""pacs""#, with: #""static-pacs""#), [], 409, "NAME_RESERVED"),
            (valid, [("X-Organization-Id", "org with spaces")], 400, "INVALID_REQUEST"),
            (#"{"connection_name":"x"}"#, [], 400, "INVALID_REQUEST"),
            (String(repeating: " ", count: 70_000), [], 400, "INVALID_REQUEST"),
        ]
        for (body, headers, status, code) in cases {
            let answer = try await tg.post("/oauth/connections", json: body, headers: apiKeyHeader + headers)
            #expect(answer.status == UInt(status) && answer.json["error"] as? String == code, "\(body.prefix(60))")
            #expect(answer.json["request_id"] as? String == answer.header("X-Request-Id"))
        }
        #expect(try await tg.post("/oauth/connections", json: valid, headers: []).status == 401, "behind admin.auth_mode")
        #expect(try await tg.get("/oauth/credentials/nope?min_ttl=abc", headers: apiKeyHeader).json["error"] as? String == "INVALID_REQUEST")

        // The static server is listed read-only; an IdP that refuses leaves the connection failed.
        let listed = try await tg.get("/oauth/connections", headers: apiKeyHeader).json["connections"] as? [[String: Any]]
        #expect(listed?.first?["connection_name"] as? String == "static-pacs" && listed?.first?["read_only"] as? Bool == true)
        #expect(
            try await tg.post("/oauth/connections", json: Self.createBody(tg, name: "wrong", secret: "not-the-secret-XYZ"), headers: apiKeyHeader).status == 201
        )
        let refused = try await tg.get("/oauth/credentials/wrong", headers: apiKeyHeader)
        #expect(refused.status == 503 && refused.json["error"] as? String == "TOKEN_UNAVAILABLE")
        let state = try await tg.get("/oauth/connections/wrong", headers: apiKeyHeader)
        #expect(state.json["status"] as? String == "failed" && (state.json["status_message"] as? String)?.isEmpty == false)
        let tested = try await tg.post("/oauth/connections/wrong/test", json: "", headers: apiKeyHeader)
        #expect(tested.status == 503)
        for text in [refused.body, state.body, tested.body, tg.logs.text] { #expect(!text.contains("not-the-secret-XYZ")) }
        #expect(try await tg.get("/health").status == 200)
    }
}
