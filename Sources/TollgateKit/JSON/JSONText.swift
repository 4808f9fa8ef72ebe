/// Renders small JSON documents by hand for hot paths where Foundation's encoder would dominate
/// the cost of a cached answer. Only writes; untrusted input is read by `StrictJSON`.
package enum JSONText {
    package enum Value: Sendable {
        case string(String)
        case strings([String])
        case int(Int)
        case bool(Bool)
        case raw(String)
        case null
    }

    package static func object(_ members: [(String, Value)]) -> String {
        var out = "{"
        for (index, (key, value)) in members.enumerated() {
            if index > 0 { out += "," }
            out += string(key)
            out += ":"
            out += render(value)
        }
        return out + "}"
    }

    package static func render(_ value: Value) -> String {
        switch value {
        case .string(let s): string(s)
        case .strings(let list): "[" + list.map(string).joined(separator: ",") + "]"
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .raw(let json): json
        case .null: "null"
        }
    }

    package static func string(_ s: String) -> String {
        var buffer = TextBuffer(capacity: s.utf8.count + 2)
        buffer.appendJSONString(s)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }
}
