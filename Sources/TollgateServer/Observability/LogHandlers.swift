import Foundation
package import Logging
package import TollgateConfiguration
import TollgateKit

/// One JSON object (or one text line) per record on stderr, written with a single `write(2)`
/// so concurrent records never interleave.
package struct TollgateLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    /// `hb.request.id`, set on every request's logger: a field of its own, so that setting it does
    /// not copy the metadata dictionary on every request.
    private var requestID: Logger.Metadata.Value?
    private let label: String
    private let format: LogFormat

    package init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { key == Self.hummingbirdRequestID ? requestID : metadata[key] }
        set {
            if key == Self.hummingbirdRequestID { requestID = newValue } else { metadata[key] = newValue }
        }
    }

    package func log(event: LogEvent) {
        Self.write(line(for: event))
    }

    private static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = Foundation.write(2, bytes.baseAddress, bytes.count) }
    }

    /// The access-log line, formatted straight to bytes: the generic path (a metadata dictionary,
    /// merged, sorted and rendered per request) cost ~19 µs a request, a quarter of /health, and
    /// string concatenation still ~9% of it.
    func writeAccess(_ access: AccessLine) {
        guard let line = accessBytes(access) else { return }
        line.withUnsafeBufferPointer { bytes in _ = Foundation.write(2, bytes.baseAddress, bytes.count) }
    }

    /// The access line as written; nil when the level hides `info`.
    func accessText(_ access: AccessLine) -> String? {
        accessBytes(access).map { String(decoding: $0, as: UTF8.self) }
    }

    private func accessBytes(_ access: AccessLine) -> [UInt8]? {
        guard logLevel <= .info else { return nil }
        var line = TextBuffer(capacity: 256)
        switch format {
        case .json:
            line.append(#"{"ts":""#)
            line.appendCurrentTimestamp()
            line.append(#"","level":"info","logger":"#)
            line.appendJSONString(label)
            line.append(#","msg":"request","request_id":"#)
            line.appendJSONString(access.requestID)
            if let traceID = access.traceID {
                line.append(#","trace_id":"#)
                line.appendJSONString(traceID)
            }
            line.append(#","method":"#)
            line.appendJSONString(access.method)
            line.append(#","route":"#)
            line.appendJSONString(access.route)
            line.append(#","status":"#)
            line.append(access.status)
            line.append(#","duration_ms":"#)
            Self.appendMilliseconds(access.durationMS, to: &line)
            if let reason = access.reason {
                line.append(#","issuer":"#)
                line.appendJSONString(access.issuer ?? "none")
                line.append(#","reason":"#)
                line.appendJSONString(reason)
            }
            if let rule = access.rule {
                line.append(#","rule":"#)
                line.appendJSONString(rule)
            }
            for (name, value) in access.orthanc?.fields ?? [] {
                line.append(",")
                line.appendJSONString(name)
                line.append(":")
                line.appendJSONString(value)
            }
            line.append("}\n")
        case .text:
            line.appendCurrentTimestamp()
            line.append(" INFO [")
            line.append(label)
            line.append("] request duration_ms=")
            Self.appendMilliseconds(access.durationMS, to: &line)
            if let reason = access.reason {
                line.append(" issuer=")
                line.append(access.issuer ?? "none")
                line.append(" reason=")
                line.append(reason)
            }
            line.append(" method=")
            line.append(access.method)
            for (name, value) in access.orthanc?.fields ?? [] {
                line.append(" ")
                line.append(name)
                line.append("=")
                line.append(value.replacingOccurrences(of: " ", with: "_"))
            }
            line.append(" request_id=")
            line.append(access.requestID)
            line.append(" route=")
            line.append(access.route)
            if let rule = access.rule {
                line.append(" rule=")
                line.append(rule)
            }
            line.append(" status=")
            line.append(access.status)
            if let traceID = access.traceID {
                line.append(" trace_id=")
                line.append(traceID)
            }
            line.append("\n")
        }
        return line.bytes
    }

    /// Milliseconds with up to three decimals, as `String(Double)` prints them (`1.0`, `0.25`).
    static func appendMilliseconds(_ milliseconds: Double, to line: inout TextBuffer) {
        guard milliseconds.isFinite, milliseconds >= 0, milliseconds < 1e12 else {
            line.append(milliseconds.isFinite ? String(milliseconds) : "0")
            return
        }
        let micros = Int((milliseconds * 1000).rounded())
        line.append(micros / 1000)
        line.append(byte: UInt8(ascii: "."))
        var fraction = micros % 1000
        var width = 3
        while width > 1, fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        line.append(fraction, width: width)
    }

    /// The record as written: one JSON object or one text line, newline-terminated.
    func line(for event: LogEvent) -> String {
        var merged = metadata
        if let requestID { merged[Self.hummingbirdRequestID] = requestID }
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        // Hummingbird's per-request logger carries the request id as `hb.request.id`; Tollgate sets
        // it to its own id, and logs it under one name.
        if let id = merged.removeValue(forKey: Self.hummingbirdRequestID) { merged["request_id"] = id }
        let timestamp = Self.timestamp()
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
        return line
    }

    static let hummingbirdRequestID = "hb.request.id"

    /// One request as the access log reports it.
    struct AccessLine {
        let method: String
        let route: String
        let status: Int
        let durationMS: Double
        let requestID: String
        let issuer: String?
        let reason: String?
        /// The forward-auth rule that matched, when rules are configured.
        var rule: String? = nil
        /// The W3C trace id, when the request is part of a trace.
        var traceID: String? = nil
        /// What an Orthanc route decided about, when it is one.
        var orthanc: OrthancAccess? = nil
    }

    /// Numbers and booleans stay numbers and booleans in JSON.
    private static func json(_ value: Logger.MetadataValue) -> JSONText.Value {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c as Int): .int(c)
        case .stringConvertible(let c as Bool): .bool(c)
        case .stringConvertible(let c as Double): c.isFinite ? .raw(String(c)) : .null
        case .stringConvertible(let c): .string(c.description)
        case .array(let list): .raw("[" + list.map { JSONText.render(json($0)) }.joined(separator: ",") + "]")
        case .dictionary(let dict):
            .raw(JSONText.object(dict.sorted(by: { $0.key < $1.key }).map { ($0.key, json($0.value)) }))
        }
    }
}

extension TollgateLogHandler {
    static func timestamp() -> String {
        var line = TextBuffer(capacity: 24)
        line.appendCurrentTimestamp()
        return String(decoding: line.bytes, as: UTF8.self)
    }
}

extension Logger {
    /// A logger that writes Tollgate's log format, without touching the global `LoggingSystem`.
    package static func tollgate(_ label: String, config: LogConfig) -> Logger {
        Logger(label: label) { label in TollgateLogHandler(label: label, level: config.level, format: config.format) }
    }
}
