import Foundation

/// Maps a `JSONNode` tree that `StrictJSON` has already read onto a `Decodable` type, so a body is
/// parsed once (Foundation's decoder would parse the same bytes a second time). Its readings are
/// Foundation's default ones — keys as written, `null` as absent for `decodeIfPresent`, a `URL`
/// from a string — with one difference on purpose: an integer must be exact and below 2^53 in
/// magnitude, since a larger one has already lost digits as a JSON number; it is refused, not rounded.
struct JSONNodeDecoder: Decoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = node else { throw JSONNodeDecoder.mismatch("an object", node, codingPath) }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = node else { throw JSONNodeDecoder.mismatch("an array", node, codingPath) }
        return UnkeyedNodeContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }

    /// The value `node` holds as `T`: scalars read here, anything else through `T`'s own `init(from:)`.
    /// The path is made only when needed (a nested decoder, an error): most members are scalars.
    static func value<T: Decodable>(_ type: T.Type, _ node: JSONNode, _ path: () -> [any CodingKey]) throws -> T {
        func mismatch(_ expected: String) -> DecodingError { JSONNodeDecoder.mismatch(expected, node, path()) }
        switch type {
        case is String.Type:
            guard case .string(let value) = node else { throw mismatch("a string") }
            return value as! T
        case is Bool.Type:
            guard case .bool(let value) = node else { throw mismatch("a boolean") }
            return value as! T
        case is Double.Type:
            // StrictJSON reads a number beyond Double as ±infinity; Foundation refuses it, and so does this.
            guard case .number(let value) = node, value.isFinite else { throw mismatch("a finite number") }
            return value as! T
        case is Float.Type:
            guard case .number(let value) = node, abs(value) <= Double(Float.greatestFiniteMagnitude) else { throw mismatch("a number that fits a Float") }
            return Float(value) as! T
        case is URL.Type:
            guard case .string(let text) = node, let url = URL(string: text) else { throw mismatch("a URL") }
            return url as! T
        case let integer as any FixedWidthInteger.Type:
            guard let exact = Self.integer(integer, node) else { throw mismatch("an integer that fits \(integer)") }
            return exact as! T
        default:
            return try T(from: JSONNodeDecoder(node: node, codingPath: path()))
        }
    }

    private static func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: JSONNode) -> I? {
        guard case .number(let value) = node, abs(value) < 9_007_199_254_740_992 else { return nil }
        return I(exactly: value)
    }

    static func mismatch(_ expected: String, _ node: JSONNode, _ codingPath: [any CodingKey]) -> DecodingError {
        let found: String =
            switch node {
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        return .typeMismatch(Any.self, DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(expected), found \(found)"))
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]
    /// Member positions by name, for objects large enough that scanning them per key would add up.
    private let index: [String: Int]?

    init(object: JSONObject, codingPath: [any CodingKey]) {
        self.object = object
        self.codingPath = codingPath
        index =
            object.count > 16
            ? Dictionary(object.members.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first }) : nil
    }

    var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.name) } }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    private func member(_ key: Key) -> JSONNode? {
        if let index { return index[key.stringValue].map { object.members[$0].value } }
        return object[key.stringValue]
    }

    private func required(_ key: Key) throws -> JSONNode {
        guard let node = member(key) else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "no member \"\(key.stringValue)\""))
        }
        return node
    }

    func decodeNil(forKey key: Key) throws -> Bool { try required(key) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let node = try required(key)
        guard node != .null else {
            throw DecodingError.valueNotFound(type, DecodingError.Context(codingPath: codingPath + [key], debugDescription: "null"))
        }
        return try JSONNodeDecoder.value(type, node) { codingPath + [key] }
    }

    /// One look-up, where the protocol's own `decodeIfPresent` makes three (`contains`, `decodeNil`,
    /// `decode`); each overload is spelled out so that none falls back to the protocol's.
    private func present<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        guard let node = member(key), node != .null else { return nil }
        return try JSONNodeDecoder.value(type, node) { codingPath + [key] }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(type, key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try present(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try present(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try present(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try present(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try present(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(type, key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try JSONNodeDecoder(node: try required(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try JSONNodeDecoder(node: try required(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        JSONNodeDecoder(node: Key(stringValue: "super").flatMap(member) ?? .null, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONNodeDecoder(node: member(key) ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let items: [JSONNode]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(items: [JSONNode], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private struct Position: CodingKey {
        let intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { nil }
    }

    private mutating func next() throws -> (node: JSONNode, index: Int) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, DecodingError.Context(codingPath: codingPath, debugDescription: "the array has no more items"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], currentIndex)
    }

    private func path(_ index: Int) -> [any CodingKey] { codingPath + [Position(intValue: index)] }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (node, index) = try next()
        guard node != .null else { throw DecodingError.valueNotFound(type, DecodingError.Context(codingPath: path(index), debugDescription: "null")) }
        return try JSONNodeDecoder.value(type, node) { path(index) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (node, index) = try next()
        return try JSONNodeDecoder(node: node, codingPath: path(index)).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (node, index) = try next()
        return try JSONNodeDecoder(node: node, codingPath: path(index)).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (node, index) = try next()
        return JSONNodeDecoder(node: node, codingPath: path(index))
    }
}

private struct SingleNodeContainer: SingleValueDecodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { node == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard node != .null else { throw DecodingError.valueNotFound(type, DecodingError.Context(codingPath: codingPath, debugDescription: "null")) }
        return try JSONNodeDecoder.value(type, node) { codingPath }
    }
}
