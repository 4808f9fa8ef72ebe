import Foundation
import Testing
import TollgateFuzzHarness

/// Every fuzz target has a seed corpus, and every seed runs through its target without a trap
/// (scripts/fuzz.sh mutates from here under libFuzzer).
@Suite("fuzz seed corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz-corpus")

    @Test(arguments: FuzzTarget.allCases)
    func seedsRunThroughTheirTarget(_ target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let seeds = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(seeds.count >= 4, "\(target.rawValue) needs a seed corpus")
        for seed in seeds {
            target.run(Array(try Data(contentsOf: directory.appendingPathComponent(seed))))
        }
        // And the hostile extremes every target must survive.
        for extreme in [[], [UInt8](repeating: 0xFF, count: 70_000), Array("{\"a\":".utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 5000)] {
            target.run(extreme)
        }
    }
}
