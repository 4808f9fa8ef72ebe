import Foundation
import TollgateKit

extension AuditEvent {
    /// The `json` format: one object per line (docs/audit.schema.json). `"stream":"audit"` tells
    /// it apart from log lines where both reach one collector.
    func jsonLine() -> [UInt8] {
        var out = TextBuffer(capacity: 512)
        out.append(#"{"stream":"audit","v":"#)
        out.append(Self.schemaVersion)
        out.append(#","ts":""#)
        out.appendTimestamp(seconds: time.seconds, milliseconds: time.milliseconds)
        out.append(#"","category":""#)
        out.append(category.rawValue)
        out.append(#"","action":""#)
        out.append(action.rawValue)
        out.append(#"","outcome":""#)
        out.append(outcome.rawValue)
        out.append(#"","status":"#)
        out.append(status)
        out.append(#","who":{"#)
        var first = true
        out.member("sub", subject, &first)
        out.member("client_id", clientID, &first)
        out.member("name", name, &first)
        out.member("issuer", issuer, &first)
        out.member("admin", admin, &first)
        out.append(#"},"from":{"#)
        first = true
        out.member("client", clientAddress, &first)
        out.member("proxy", peerAddress, &first)
        out.append(#"},"what":{"method":"#)
        out.appendJSONString(method)
        out.append(#","path":"#)
        out.appendJSONString(path)
        first = false
        out.member("target", target, &first)
        if let resource {
            out.append(#","resource":{"#)
            first = true
            out.member("level", resource.level, &first)
            out.member("orthanc_id", resource.orthancID, &first)
            out.member("dicom_uid", resource.dicomUID, &first)
            out.append(byte: UInt8(ascii: "}"))
        }
        if let shareLink {
            out.append(#","share_link":{"type":"#)
            out.appendJSONString(shareLink.type)
            out.append(#","studies":["#)
            for (index, study) in shareLink.studies.enumerated() {
                if index > 0 { out.append(byte: UInt8(ascii: ",")) }
                out.appendJSONString(study)
            }
            out.append(byte: UInt8(ascii: "]"))
            if let lifetime = shareLink.lifetimeSeconds {
                out.append(#","lifetime_seconds":"#)
                out.append(lifetime)
            }
            out.append(byte: UInt8(ascii: "}"))
        }
        out.append(byte: UInt8(ascii: "}"))
        first = false
        out.member("rule", rule, &first)
        out.member("permission", permission, &first)
        out.member("reason", reason, &first)
        out.member("request_id", requestID, &first)
        out.member("trace_id", traceID, &first)
        out.append(bytes: "}\n")
        return out.bytes
    }

    var timestamp: String {
        var out = TextBuffer(capacity: 24)
        out.appendTimestamp(seconds: time.seconds, milliseconds: time.milliseconds)
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

extension TextBuffer {
    /// `"name":"value"` after a comma unless it is the object's first member; nothing when absent.
    mutating func member(_ name: StaticString, _ value: String?, _ first: inout Bool) {
        guard let value else { return }
        if !first { append(byte: UInt8(ascii: ",")) }
        first = false
        append(byte: UInt8(ascii: "\""))
        append(bytes: name)
        append(bytes: #"":"#)
        appendJSONString(value)
    }
}
