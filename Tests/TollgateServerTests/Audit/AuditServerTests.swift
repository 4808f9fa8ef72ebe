import Foundation
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// The trail over a running Tollgate: which requests leave which records, with what in them.
@Suite("audit over HTTP")
struct AuditServerTests {
    static func records(_ path: String) throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func start(_ adjust: @escaping (inout AuditConfig) -> Void = { _ in }) async throws -> (RunningTollgate, String) {
        let directory = scratchDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.jsonl"
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.audit.enabled = true
            config.audit.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: path))
            adjust(&config.audit)
        }
        return (tg, path)
    }

    @Test func decisionsAdminActsAndSecurityEventsAreRecordedWithoutSecrets() async throws {
        let (tg, path) = try await Self.start()
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + token), ("X-Request-Id", "allowed-1")]).status == 200)
        #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer not-a-token"), ("X-Request-Id", "denied-1")]).status == 401)
        #expect(try await tg.authenticate(token).status == 200)
        #expect(try await tg.post("/admin/cache/evict", json: #"{"token":"\#(token)"}"#, headers: [("X-API-Key", "wrong-key")]).status == 401)
        #expect(try await tg.post("/admin/cache/evict", json: #"{"token":"\#(token)"}"#, headers: apiKeyHeader + [("X-Request-Id", "evict-1")]).status == 200)
        try await waitUntil { try Self.records(path).count >= 5 }
        let records = try Self.records(path)
        let byAction = Dictionary(grouping: records) { $0["action"] as? String ?? "" }
        let allowed = try #require(records.first { $0["request_id"] as? String == "allowed-1" })
        #expect(allowed["category"] as? String == "access" && allowed["outcome"] as? String == "allowed")
        #expect((allowed["who"] as? [String: String])?["sub"] == "tollgate-dev" && (allowed["who"] as? [String: String])?["issuer"] == "dev")
        #expect((allowed["from"] as? [String: String])?["client"] == "127.0.0.1")
        let denied = try #require(records.first { $0["request_id"] as? String == "denied-1" })
        #expect(denied["outcome"] as? String == "denied" && denied["status"] as? Int == 401)
        let plugin = try #require(byAction["plugin.authenticate"]?.first)
        #expect(plugin["outcome"] as? String == "allowed")
        #expect(plugin["what"] as? [String: String] == ["method": "GET", "path": "/api/users"], "the request MockForge asked about")
        let refusedAdmin = try #require(byAction["admin.authentication"]?.first)
        #expect(refusedAdmin["category"] as? String == "security" && refusedAdmin["outcome"] as? String == "denied")
        let evict = try #require(records.first { $0["request_id"] as? String == "evict-1" })
        #expect(evict["action"] as? String == "cache.evict" && (evict["who"] as? [String: String])?["admin"] == "admin.api_keys[0]")
        #expect(((evict["what"] as? [String: Any])?["target"] as? String)?.hasPrefix("sha256:") == true)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(token) && !text.contains(testAPIKey) && !text.contains("wrong-key") && !text.contains("tollgate-dev-secret"))
        let metrics = try await tg.get("/metrics").body
        #expect(metrics.contains(#"tollgate_audit_events_total{sink="file",outcome="written"}"#))
    }

    /// The client comes from X-Forwarded-For only through a trusted proxy (loopback here), read
    /// from the right; an unreadable hop names no client rather than a made-up one.
    @Test func theClientAddressComesFromTrustedForwardedForOnly() async throws {
        let (tg, path) = try await Self.start()
        defer { Task { await tg.stop() } }
        _ = try await tg.get("/auth", headers: [("X-Forwarded-For", "198.51.100.7, 203.0.113.9"), ("X-Request-Id", "xff-1")])
        _ = try await tg.get("/auth", headers: [("X-Forwarded-For", "198.51.100.7, not-an-address"), ("X-Request-Id", "xff-2")])
        _ = try await tg.get("/auth", headers: [("X-Request-Id", "xff-3")])
        try await waitUntil { try Self.records(path).count >= 3 }
        let from = Dictionary(uniqueKeysWithValues: try Self.records(path).map { ($0["request_id"] as? String ?? "", $0["from"] as? [String: String] ?? [:]) })
        #expect(from["xff-1"] == ["client": "203.0.113.9", "proxy": "127.0.0.1"])
        #expect(from["xff-2"] == ["proxy": "127.0.0.1"])
        #expect(from["xff-3"] == ["client": "127.0.0.1"])
    }

    /// `tollgate registry rewrap` records its act from the command line.
    @Test func aKeyRewrapIsRecordedFromTheCommandLine() async throws {
        let directory = scratchDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = AuditConfig()
        config.enabled = true
        config.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: directory + "/audit.jsonl"))
        #expect(await CommandAudit.record(config: config, action: .keyRewrap, outcome: true, target: "key:k2", reason: "rewrapped 3 connection(s)"))
        let record = try #require(try Self.records(directory + "/audit.jsonl").first)
        #expect(record["action"] as? String == "registry.key_rewrap" && record["category"] as? String == "admin")
        #expect(((record["who"] as? [String: String])?["admin"])?.hasPrefix("cli:") == true)
        #expect((record["what"] as? [String: String])?["target"] == "key:k2")
        config.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: "/dev/full"))
        #expect(!(await CommandAudit.record(config: config, action: .keyRewrap, outcome: true, target: nil, reason: "x")), "an unwritable trail is reported")
        config.enabled = false
        #expect(await CommandAudit.record(config: config, action: .keyRewrap, outcome: true, target: nil, reason: "x"), "nothing to record when off")
    }

    @Test func allowedDecisionsCanBeLeftOutButDenialsNever() async throws {
        let (tg, path) = try await Self.start { $0.excludeRoutes = ["/auth*"] }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        for _ in 0..<3 { #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + token)]).status == 200) }
        #expect(try await tg.get("/auth/x", headers: [("X-Request-Id", "no-token")]).status == 401)
        #expect(try await tg.authenticate(token).status == 200)
        try await waitUntil { try Self.records(path).count >= 2 }
        try await Task.sleep(for: .milliseconds(200))
        let records = try Self.records(path)
        #expect(records.map { $0["action"] as? String } == ["auth", "plugin.authenticate"])
        #expect(records.first?["request_id"] as? String == "no-token")
    }

    /// `on_failure: deny` with a sink that cannot write (/dev/full) and a buffer of one: the first
    /// allowed decision waits in the buffer, the next one cannot be recorded and is refused.
    @Test func onFailureDenyRefusesWhatCannotBeRecorded() async throws {
        let (tg, _) = try await Self.start { audit in
            audit.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: "/dev/full"))
            audit.bufferEvents = 1
            audit.onFailure = .deny
            audit.unreadyAfterSeconds = 1
        }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        let bearer = [("Authorization", "Bearer " + token)]
        #expect(try await tg.get("/auth", headers: bearer).status == 200)
        let refused = try await tg.get("/auth", headers: bearer)
        #expect(refused.status == 503 && refused.header("X-Tollgate-Error") == "audit_unavailable")
        #expect(!refused.body.contains(token))
        #expect(try await tg.get("/auth").status == 401, "a denial is not turned into anything else")
        try await waitUntil { try await tg.get("/ready").status == 503 }
        #expect(try await tg.get("/ready").body.contains("audit sink file: failing"))
        #expect(try await tg.get("/metrics").body.contains(#"tollgate_audit_events_total{sink="file",outcome="dropped"}"#))
    }
}
