import TollgateKit
/// Helpers that make `Decodable` config types strict: unknown keys are errors, and missing
/// optional keys fall back to documented defaults.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// A keyed container that first rejects any key not listed in `Keys`.
    func strictContainer<Keys: CodingKey & CaseIterable>(keyedBy: Keys.Type) throws -> KeyedDecodingContainer<Keys> {
        let allowed = Set(Keys.allCases.map(\.stringValue))
        let everything = try container(keyedBy: AnyCodingKey.self)
        for key in everything.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigError(path: codingPath + [key], message: "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        return try container(keyedBy: Keys.self)
    }
}

extension KeyedDecodingContainer {
    func decode<T: Decodable>(_ key: Key, default value: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? value()
    }

    func decode<T: Decodable>(_ key: Key) throws -> T {
        try decode(T.self, forKey: key)
    }

    func decodeOptional<T: Decodable>(_ key: Key) throws -> T? {
        try decodeIfPresent(T.self, forKey: key)
    }
}

/// Decodes a closed set of string values and names the allowed ones on error.
public protocol ConfigEnum: RawRepresentable<String>, CaseIterable, Decodable, Sendable {}

extension ConfigEnum {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = Self.allCases.map(\.rawValue).joined(separator: " | ")
            throw ConfigError(path: decoder.codingPath, message: "must be one of \(allowed)")
        }
        self = value
    }
}
