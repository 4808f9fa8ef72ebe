/// Renders small JSON documents by hand for hot paths where Foundation's encoder would dominate
/// the cost of a cached answer. Only writes; parsing always goes through `JSONDecoder`.
public enum JSONText {
    public enum Value: Sendable {
        case string(String)
        case strings([String])
        case int(Int)
        case bool(Bool)
        case raw(String)
        case null
    }

    public static func object(_ members: [(String, Value)]) -> String {
        var out = "{"
        for (index, (key, value)) in members.enumerated() {
            if index > 0 { out += "," }
            out += string(key)
            out += ":"
            out += render(value)
        }
        return out + "}"
    }

    public static func render(_ value: Value) -> String {
        switch value {
        case .string(let s): string(s)
        case .strings(let list): "[" + list.map(string).joined(separator: ",") + "]"
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .raw(let json): json
        case .null: "null"
        }
    }

    public static func string(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value == 0x2028 || c.value == 0x2029:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
