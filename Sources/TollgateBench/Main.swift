import ArgumentParser
import Foundation

/// Benchmarks that run inside one process; not part of the shipped `tollgate` binary.
@main
struct TollgateBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate-bench",
        abstract: "In-process benchmarks of Tollgate's building blocks (bench/ runs them).",
        subcommands: [Verify.self, FloorServer.self]
    )
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure uncached RS256 JWT verification in-process (what a cache miss costs).")
    @Option(help: "Seconds to run.") var seconds: Double = 3
    @Option(help: "Concurrent verifying tasks.") var tasks: Int = 1

    func run() async throws {
        let result = try await VerificationBenchmark.run(seconds: seconds, tasks: tasks)
        print(
            "RS256 uncached verifications: \(result.verifications) in \(String(format: "%.2f", result.seconds)) s = \(Int(result.perSecond))/s with \(tasks) task(s)"
        )
    }
}
