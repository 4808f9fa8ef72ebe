import Foundation
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit
import TollgateRegistry

/// The shipped Grafana dashboard asks only for metrics a live Tollgate exposes: an instance with
/// an outbound server, the registry and the audit trail serves some traffic, then every metric
/// name in the dashboard's queries must be in its `/metrics`.
@Suite("operations kit")
struct DashboardMetricsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The metric names a PromQL expression reads (histogram series named by their family).
    static func metricNames(_ expression: String) -> Set<String> {
        let names = expression.matches(of: /\b(?:tollgate|process)_[a-z_]+\b/).map { String($0.output) }
        return Set(
            names.map { name in
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && name.contains("duration_seconds") {
                    return String(name.dropLast(suffix.count))
                }
                return name
            })
    }

    @Test func everyDashboardQueryReadsAMetricALiveInstanceExposes() async throws {
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("k8s/observability/grafana-dashboard.json")))
                as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        let wanted = expressions.reduce(into: Set<String>()) { $0.formUnion(Self.metricNames($1)) }
        #expect(wanted.count >= 12, "\(wanted.sorted())")

        let directory = scratchDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            let base = "http://127.0.0.1:\(config.server.port)"
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = [
                "self": OutboundServerConfig(
                    url: base + "/", tokenEndpoint: base + "/dev-issuer/token", clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret",
                    scope: "read")
            ]
            config.registry.enabled = true
            config.registry.sqlite.path = directory + "/registry.sqlite"
            config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(RegistryKeyring.generateKeyMaterial()))]
            config.audit.enabled = true
            config.audit.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: directory + "/audit.jsonl"))
        }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        for _ in 0..<2 { #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + token)]).status == 200) }
        #expect(try await tg.get("/proxy/self/health", headers: apiKeyHeader).status == 200)
        #expect(try await tg.post("/oauth/connections", json: ConnectionsAPITests.createBody(tg), headers: apiKeyHeader).status == 201)
        #expect(try await tg.post("/oauth/connections/pacs/test", body: [], headers: apiKeyHeader).status == 200)
        try await waitUntil { try await tg.get("/metrics").body.contains("tollgate_audit_events_total") }
        let exposed = try await tg.get("/metrics").body.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { line in String(line.prefix { $0 != "{" && $0 != " " }) }
        let families = Set(
            exposed.map { name in
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && name.contains("duration_seconds") {
                    return String(name.dropLast(suffix.count))
                }
                return name
            })
        #expect(wanted.subtracting(families).isEmpty, "the dashboard asks for metrics Tollgate does not expose: \(wanted.subtracting(families).sorted())")
    }
}
