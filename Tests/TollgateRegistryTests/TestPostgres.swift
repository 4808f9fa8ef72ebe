import Foundation
import Logging
@testable import TollgateRegistry

/// The PostgreSQL server of the test run (`scripts/lib/postgres.sh start` prints such a URL).
let testPostgresURL = ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"]

/// A schema of its own per test, so tests running in parallel share the server and nothing else.
func uniqueSchema() -> String {
    "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
}

func openPostgres(schema: String) async throws -> PostgresConnectionStore {
    let store = try PostgresConnectionStore.open(url: testPostgresURL ?? "", schema: schema, maxConnections: 4, logger: Logger(label: "test"))
    try await store.migrate()
    return store
}

/// `pg_dump` of one schema, as text (the at-rest check reads what an operator's backup holds).
/// Run on a GCD thread: waiting for it on Swift's cooperative pool would stall every other test.
func pgDump(schema: String) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["pg_dump", "--schema", schema, testPostgresURL ?? ""]
                let output = Pipe()
                process.standardOutput = output
                process.standardError = FileHandle.nullDevice
                try process.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else { throw ConnectionStoreError("pg_dump exited \(process.terminationStatus)") }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
