import Foundation
import Testing
import TollgateKit

/// What only a process shows: SIGHUP reopens the file sink (logrotate), SIGTERM writes every
/// queued record before the process exits.
@Suite("audit trail in a process")
struct AuditProcessTests {
    @Test func sighupReopensTheFileAndSigtermFlushesEveryRecord() async throws {
        let directory = scratchDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/audit.jsonl"
        let tollgate = try await TollgateProcess.start(
            config: """
                dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
                inbound: {issuers: [{name: dev, embedded: true, introspection: {client_id: a, client_secret: b}}]}
                audit: {enabled: true, sinks: {file: {path: "\(path)"}}}
                """)
        func lines(_ file: String) -> Int {
            ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        var sent = 0
        for _ in 0..<3 {
            #expect(try await tollgate.status("/auth") == 401)
            sent += 1
        }
        try await waitUntil { lines(path) == 3 }
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        kill(tollgate.process.processIdentifier, SIGHUP)
        try await waitUntil {
            _ = try await tollgate.status("/auth")
            sent += 1
            return lines(path) > 0
        }
        #expect(tollgate.process.isRunning, "SIGHUP does not stop Tollgate")
        for _ in 0..<50 {
            _ = try await tollgate.status("/auth")
            sent += 1
        }
        await tollgate.stop()
        try await waitUntil { !tollgate.process.isRunning }
        #expect(tollgate.process.terminationStatus == 0)
        #expect(lines(path + ".1") + lines(path) == sent, "every record written before exit, none twice")
        #expect(lines(path + ".1") >= 3)
    }
}
