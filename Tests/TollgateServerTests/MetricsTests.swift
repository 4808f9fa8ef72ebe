import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TollgateServer

/// The audit: no `# HELP`, two naming conventions, no process metrics, walls of zero series.
@Suite("metrics exposition")
struct MetricsTests {
    static func families(_ text: String) -> (typed: Set<String>, helped: Set<String>) {
        var typed = Set<String>(), helped = Set<String>()
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count >= 3, words[0] == "#", words[1] == "TYPE" { typed.insert(String(words[2])) }
            if words.count >= 3, words[0] == "#", words[1] == "HELP" { helped.insert(String(words[2])) }
        }
        return (typed, helped)
    }

    @Test func everyFamilyHasHelpOneConventionAndProcessFigures() async throws {
        try await RouterTests.withRouter { client in
            _ = try await client.execute(uri: "/auth", method: .get, headers: [.authorization: "Bearer abc"])
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                let (typed, helped) = Self.families(text)
                #expect(!typed.isEmpty)
                #expect(typed.subtracting(helped).isEmpty, "no # HELP for \(typed.subtracting(helped).sorted())")
                for family in typed {
                    #expect(family.hasPrefix("tollgate_") || family.hasPrefix("process_"), "\(family) breaks the naming convention")
                }
                for family in [
                    "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_max_fds", "process_start_time_seconds",
                ] {
                    let line = text.split(separator: "\n").first { $0.hasPrefix(family + " ") }
                    #expect(line != nil, "\(family) missing")
                    #expect((line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0) > 0, "\(family) is zero")
                }
                // Only series that happened: one denial, not every (result, reason, issuer) combination.
                let decisions = text.split(separator: "\n").filter { $0.hasPrefix("tollgate_decisions_total{") }
                #expect(decisions.count == 1, "\(decisions)")
                #expect(decisions.first?.hasSuffix(" 1") == true)
            }
        }
    }
}
