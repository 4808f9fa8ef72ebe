/// The one JSON value tree also carries JSON that is passed through rather than read: an Orthanc
/// definition's extra members, from `config.yaml` (through Codable) or a registry body (through
/// `StrictJSON`), stored with a connection and rendered into Orthanc's definition.
extension JSONNode: Codable {
    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Double.self) {
            self = .number(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JSONNode].self) {
            self = .array(value)
        } else {
            // Sorted, so one object decoded twice compares equal whatever order a decoder yields.
            let members = try c.decode([String: JSONNode].self).sorted { $0.key < $1.key }
            self = .object(JSONObject(members.map { (name: $0.key, value: $0.value) }))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let value): try c.encode(value)
        case .number(let value):
            if let whole = integer { try c.encode(whole) } else { try c.encode(value) }
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(Dictionary(value.members.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    /// A number that is whole and exactly representable (|n| < 2^53), as an integer; else nil.
    package var integer: Int? {
        guard case .number(let value) = self, value.rounded(.towardZero) == value, abs(value) < 9_007_199_254_740_992 else { return nil }
        return Int(value)
    }

    /// The value as JSON text: whole numbers without a fraction, members in document order.
    package var rendered: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number(let value): integer.map(String.init) ?? (value.isFinite ? String(value) : "null")
        case .string(let value): JSONText.string(value)
        case .array(let list): "[" + list.map(\.rendered).joined(separator: ",") + "]"
        case .object(let object): JSONText.object(object.members.map { ($0.name, .raw($0.value.rendered)) })
        }
    }

    /// Members given as a dictionary, rendered as one object with their names sorted.
    package static func rendered(object members: [String: JSONNode]) -> String {
        JSONText.object(members.sorted { $0.key < $1.key }.map { ($0.key, .raw($0.value.rendered)) })
    }
}
