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
    func seedsRunThroughTheirTarget(_ target: FuzzTarget) async throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let seeds = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(seeds.count >= 4, "\(target.rawValue) needs a seed corpus")
        var inputs = try seeds.map { Array(try Data(contentsOf: directory.appendingPathComponent($0))) }
        // And the hostile extremes every target must survive.
        inputs += [[], [UInt8](repeating: 0xFF, count: 70_000), Array("{\"a\":".utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 5000)]
        let all = inputs
        // A target that awaits blocks its thread as libFuzzer's would: never a thread of the pool the awaited work needs.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                for input in all { target.run(input) }
                done.resume()
            }.start()
        }
    }
}
