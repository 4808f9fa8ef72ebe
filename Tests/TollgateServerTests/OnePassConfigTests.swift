import Foundation
import Testing
@testable import TollgateConfiguration

/// A broken file's problems come in one list: substitution, decode and semantic ones together,
/// and no complaint about a default that stands in for a key that did not decode.
@Suite("config problems in one pass")
struct OnePassConfigTests {
    @Test func tenProblemsOfEveryKindAreReportedTogether() throws {
        let (config, decoding) = try ConfigLoader.decode(yaml: OnePassFixture.yaml, environment: [:])
        #expect(Set(decoding.map(\.path)) == ["server.idle_timeout_seconds", "server.bogus", "log.level", "inbound.issuers[0].issuer"])
        let all = config.allProblems(decoding: decoding)
        #expect(Set(all.map(\.path)) == Set(OnePassFixture.paths), "\(all.map(\.description))")
        #expect(all.count == 10, "each once: \(all.map(\.description))")
    }

    @Test func aDefaultStandingInForABrokenKeyIsNotComplainedAbout() throws {
        let (config, decoding) = try ConfigLoader.decode(yaml: "inbound: {issuers: 3}\nserver: {port: x}\n", environment: [:])
        let all = config.allProblems(decoding: decoding)
        #expect(Set(all.map(\.path)) == ["inbound.issuers", "server.port"], "no 'nothing to do' for the issuers that did not decode: \(all)")
        #expect(TollgateConfig.overlaps("a.b", "a.b.c") && TollgateConfig.overlaps("a[0]", "a") && !TollgateConfig.overlaps("a.bc", "a.b"))
    }

    /// `tollgate check-config` on that file lists all ten in one run.
    @Test func checkConfigListsEveryProblemAtOnce() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-ten-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try OnePassFixture.yaml.write(to: file, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(["check-config", "--config", file.path], environment: [:], executable: TollgateProcess.executable)
        #expect(result.status == 1)
        let listed = result.output.split(separator: "\n").filter { $0.hasPrefix("  - ") }
        #expect(listed.count == 10, "\(result.output)")
        for path in OnePassFixture.paths { #expect(listed.contains { $0.hasPrefix("  - \(path):") }, "\(path) in \(result.output)") }
    }
}

enum OnePassFixture {
    static let yaml = """
        server:
          host: 0.0.0.0
          port: 70000
          max_body_bytes: 10
          idle_timeout_seconds: soon
          bogus: 1
        log: {level: loud}
        inbound:
          issuers:
            - name: Bad Name
              issuer: ${MISSING_ISSUER}
              introspection: {client_id: x, client_secret: y}
        forward_auth:
          default: deny
          rules:
            - {name: r, path: "([", scopes: [a]}
        dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
        audit: {enabled: true, buffer_events: 0}
        """
    static let paths = [
        "server.port", "server.max_body_bytes", "server.idle_timeout_seconds", "server.bogus", "log.level", "inbound.issuers[0].name",
        "inbound.issuers[0].issuer", "forward_auth.rules[0].path", "dev_issuer.enabled", "audit.buffer_events",
    ]
}
