import Foundation

/// A short-lived child process (python3, `tollgate check-config`) run to completion on a GCD
/// thread: waiting for it on Swift's cooperative pool would stall every other test's tasks for as
/// long (two threads on a two-core machine).
enum ChildProcess {
    struct Result: Sendable {
        let status: Int32
        let output: String
    }

    /// Runs `arguments` through `/usr/bin/env`, with `input` on stdin; stdout and stderr together.
    static func run(_ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil, executable: URL? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = executable ?? URL(fileURLWithPath: "/usr/bin/env")
                    process.arguments = arguments
                    if let environment { process.environment = environment }
                    let stdin = Pipe()
                    let output = Pipe()
                    process.standardInput = stdin
                    process.standardOutput = output
                    process.standardError = output
                    try process.run()
                    stdin.fileHandleForWriting.write(Data(input))
                    try stdin.fileHandleForWriting.close()
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    process.waitUntilExit()
                    continuation.resume(returning: Result(status: process.terminationStatus, output: text))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
