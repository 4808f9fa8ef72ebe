import TollgateKit

/// A JSON value given in YAML, passed through to Orthanc as is.
package enum JSONValue: Sendable, Codable, Equatable {
    case bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue]), null

    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Int.self) {
            self = .int(value)
        } else if let value = try? c.decode(Double.self) {
            self = .double(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// A value the strict parser read (numbers that are whole and fit an `Int` stay integers).
    package init(_ node: JSONNode) {
        switch node {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let value):
            self = value.rounded(.towardZero) == value && abs(value) < 9e15 ? .int(Int(value)) : .double(value)
        case .string(let value): self = .string(value)
        case .array(let list): self = .array(list.map(JSONValue.init))
        case .object(let object): self = .object(Dictionary(object.members.map { ($0.name, JSONValue($0.value)) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .bool(let value): try c.encode(value)
        case .int(let value): try c.encode(value)
        case .double(let value): try c.encode(value)
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(value)
        case .null: try c.encodeNil()
        }
    }

    package var rendered: String {
        switch self {
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? String(d) : "null"
        case .string(let s): JSONText.string(s)
        case .array(let list): "[" + list.map(\.rendered).joined(separator: ",") + "]"
        case .object(let members): JSONText.object(members.sorted { $0.key < $1.key }.map { ($0.key, .raw($0.value.rendered)) })
        case .null: "null"
        }
    }
}
