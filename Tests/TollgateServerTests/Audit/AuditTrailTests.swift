import Foundation
import Synchronization
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// The trail's promise: a slow or failing sink never blocks a decision, nothing is lost within the
/// buffer, and every record beyond it is counted.
@Suite("audit trail")
struct AuditTrailTests {
    /// A sink that fails while `down` is set and keeps what it took, in order.
    final class SwitchableSink: AuditSink, Sendable {
        let name = "test"
        let down = Mutex(false)
        let taken = Mutex<[String]>([])

        func write(_ records: ArraySlice<AuditRecord>) async -> AuditWriteResult {
            if down.withLock({ $0 }) { return AuditWriteResult(written: 0, failure: "receiver down") }
            taken.withLock { $0 += records.map { String(decoding: $0.line, as: UTF8.self) } }
            return AuditWriteResult(written: records.count, failure: nil)
        }

        var requestIDs: [String] {
            taken.withLock { $0 }.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["request_id"] as? String
            }
        }
    }

    final class Counts: AuditObserver, Sendable {
        let counts = Mutex<[String: Int]>([:])
        func auditWritten(sink: String, count: Int) { counts.withLock { $0["written", default: 0] += count } }
        func auditDropped(sink: String, count: Int) { counts.withLock { $0["dropped", default: 0] += count } }
        func auditSinkFailed(sink: String, reason: String) { counts.withLock { $0["failures", default: 0] += 1 } }
        subscript(_ key: String) -> Int { counts.withLock { $0[key, default: 0] } }
    }

    static func event(_ id: Int) -> AuditEvent {
        AuditEvent(category: .access, action: .forwardAuth, outcome: .allowed, status: 200, method: "GET", path: "/", requestID: "r\(id)")
    }

    static func config(buffer: Int, unreadyAfter: Int = 1) -> AuditConfig {
        var config = AuditConfig()
        config.enabled = true
        config.bufferEvents = buffer
        config.unreadyAfterSeconds = unreadyAfter
        return config
    }

    @Test func aReceiverThatIsDownKeepsTheBufferAndCountsEveryLossBeyondIt() async throws {
        let sink = SwitchableSink()
        let counts = Counts()
        sink.down.withLock { $0 = true }
        let trail = AuditTrail(config: Self.config(buffer: 5), sinks: [sink], observer: counts)
        trail.start()
        let accepted = (1...8).map { trail.record(Self.event($0)) }
        #expect(accepted == [true, true, true, true, true, false, false, false])
        #expect(counts["dropped"] == 3)
        try await waitUntil(seconds: 30) { !trail.notReadyReasons().isEmpty }
        #expect(trail.notReadyReasons().first?.contains("audit sink test: failing") == true)
        #expect(trail.notReadyReasons().first?.contains("5 records waiting") == true)
        sink.down.withLock { $0 = false }
        try await waitUntil(seconds: 30) { sink.requestIDs.count == 5 }
        #expect(sink.requestIDs == ["r1", "r2", "r3", "r4", "r5"], "in order, none twice")
        #expect(counts["written"] == 5 && counts["failures"] >= 1)
        #expect(trail.notReadyReasons().isEmpty)
        #expect(trail.record(Self.event(9)))
        await trail.close()
        #expect(sink.requestIDs.last == "r9", "flushed at close")
        #expect(!trail.record(Self.event(10)), "closed")
    }

    /// An operator sees a failing sink and dropped records in the application log, once per
    /// window rather than once per record, and sees the sink recover.
    @Test func failuresAndDropsAreWarnedOnceAndTheRecoveryIsLogged() async throws {
        let sink = SwitchableSink()
        let counts = Counts()
        let logs = LogCapture()
        sink.down.withLock { $0 = true }
        let observer = LoggedAuditObserver(metrics: counts, logger: logs.logger(), warnings: WarningThrottle(interval: 3600))
        let trail = AuditTrail(config: Self.config(buffer: 2), sinks: [sink], observer: observer)
        trail.start()
        for id in 1...6 { trail.record(Self.event(id)) }
        try await waitUntil(seconds: 30) { counts["failures"] >= 2 }
        sink.down.withLock { $0 = false }
        try await waitUntil(seconds: 30) { sink.requestIDs.count == 2 }
        try await waitUntil(seconds: 5) { logs.text.contains("audit sink writes again") }
        let lines = logs.text.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("warning audit sink cannot write") && $0.contains("receiver down") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("warning audit records dropped") }.count == 1, "4 drops, one warning")
        #expect(counts["dropped"] == 4)
        await trail.close()
    }

    @Test func aSinkThatNeverRecoversIsGivenUpAtShutdownAndCounted() async throws {
        let sink = SwitchableSink()
        let counts = Counts()
        sink.down.withLock { $0 = true }
        let trail = AuditTrail(config: Self.config(buffer: 100), sinks: [sink], observer: counts)
        trail.start()
        for id in 1...7 { trail.record(Self.event(id)) }
        await trail.close(timeout: .milliseconds(300))
        #expect(counts["dropped"] == 7 && counts["written"] == 0)
    }

    @Test func theFileSinkAppendsWithItsModeAndReopensAfterRotation() async throws {
        let directory = scratchDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/audit.jsonl"
        let sink = FileAuditSink(config: AuditFileSinkConfig(path: path, mode: "0640"))
        let record = AuditRecord(Self.event(1), format: .json)
        #expect(await sink.write([record, record][...]).written == 2)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        #expect(await sink.write([record][...]).written == 1, "still the rotated file until SIGHUP")
        await sink.reopen()
        #expect(await sink.write([record][...]).written == 1)
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8).split(separator: "\n").count == 3)
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 1)
        await sink.close()
        let full = FileAuditSink(config: AuditFileSinkConfig(path: "/dev/full"))
        let failed = await full.write([record][...])
        #expect(failed.written == 0 && failed.failure?.contains("No space left") == true)
    }

    @Test func configErrorsNameTheirKeys() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
                audit:
                  enabled: true
                  include_allowed: 2
                  buffer_events: 0
                  exclude_routes: ["health"]
                  sinks:
                    file: {path: /tmp/x, mode: "0666"}
                    syslog: {transport: udp, address: "nohost", facility: kernel, ca_file: /nonexistent}
                """, environment: [:])
        let paths = Set(config.validationErrors().map(\.path))
        #expect(
            paths.isSuperset(of: [
                "audit.include_allowed", "audit.buffer_events", "audit.exclude_routes[0]", "audit.sinks.file.mode", "audit.sinks.syslog.address",
                "audit.sinks.syslog.facility", "audit.sinks.syslog.ca_file",
            ]), "\(paths)")
        #expect(throws: (any Error).self) {
            try ConfigLoader.parse(yaml: "audit: {enabled: true, format: xml}", environment: [:])
        }
        let sampled = try ConfigLoader.parse(yaml: "audit: {include_allowed: false}", environment: [:])
        #expect(sampled.audit.includeAllowed == 0 && !sampled.audit.enabled)
    }
}
