import Foundation
import Logging
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// One JSON object (or one text line) per record on stderr, written with a single `write(2)`
/// so concurrent records never interleave.
public struct TollgateLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat

    public init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        let line: String
        switch format {
        case .json:
            var members: [(String, JSONText.Value)] = [
                ("ts", .string(timestamp)), ("level", .string(event.level.rawValue)),
                ("logger", .string(label)), ("msg", .string(event.message.description)),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                members.append((key, Self.json(value)))
            }
            line = JSONText.object(members) + "\n"
        case .text:
            let fields = merged.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(timestamp) \(event.level.rawValue.uppercased()) [\(label)] \(event.message)\(fields.isEmpty ? "" : " " + fields)\n"
        }
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONText.Value {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let list): .raw("[" + list.map { JSONText.render(json($0)) }.joined(separator: ",") + "]")
        case .dictionary(let dict):
            .raw(JSONText.object(dict.sorted(by: { $0.key < $1.key }).map { ($0.key, json($0.value)) }))
        }
    }
}

extension Logger {
    /// A logger that writes Tollgate's log format, without touching the global `LoggingSystem`.
    public static func tollgate(_ label: String, config: LogConfig) -> Logger {
        Logger(label: label) { label in TollgateLogHandler(label: label, level: config.level, format: config.format) }
    }
}
