import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// Log lines captured in memory so tests can assert what never appears in them.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])
    private let kept = Mutex<[Record]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    /// Each line's message and metadata (values as text), for comparing lines field by field.
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    var records: [Record] { kept.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String, _ record: Record) {
        lines.withLock { $0.append(line) }
        kept.withLock { $0.append(record) }
    }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { $1 }
            capture.append(
                "\(event.level) \(event.message) \(all)",
                Record(level: event.level, message: event.message.description, metadata: all.mapValues { "\($0)" }))
        }
    }
}
