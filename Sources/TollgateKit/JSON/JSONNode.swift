/// A parsed JSON value (RFC 8259) for the hot paths that read a few members of a small document:
/// a JWT's header and claims, an introspection answer, a MockForge request. `StrictJSON` builds
/// it; readers take what they need and never see a member of the wrong type as the right one.
package enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    /// Members in document order; names are unique (the parser refuses duplicates).
    case object(JSONObject)

    package var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    package var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    package var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    package var array: [JSONNode]? {
        if case .array(let value) = self { return value }
        return nil
    }

    package var object: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Every element a string, else nil.
    package var strings: [String]? {
        guard case .array(let elements) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let value) = element else { return nil }
            out.append(value)
        }
        return out
    }
}

/// A JSON object's members. Small documents have few members, so lookup is a linear scan.
package struct JSONObject: Sendable, Equatable {
    package private(set) var members: [(name: String, value: JSONNode)]

    package init(_ members: [(name: String, value: JSONNode)] = []) { self.members = members }

    package subscript(name: String) -> JSONNode? {
        for member in members where member.name == name { return member.value }
        return nil
    }

    package func contains(_ name: String) -> Bool { self[name] != nil }

    package var count: Int { members.count }

    mutating func append(_ name: String, _ value: JSONNode) { members.append((name, value)) }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count && zip(lhs.members, rhs.members).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
