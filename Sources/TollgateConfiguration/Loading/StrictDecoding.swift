import Synchronization
/// Helpers that make `Decodable` config types strict: unknown keys are errors, and missing
/// optional keys fall back to documented defaults.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Problems found while decoding, so that `check-config` reports every one at once: a key that
/// fails is recorded and takes its default, and decoding goes on. Installed by `ConfigLoader`
/// for the duration of one decode; without it the first problem throws.
final class DecodeProblems: Sendable {
    @TaskLocal static var current: DecodeProblems?

    private let recorded = Mutex<[ConfigError]>([])

    var errors: [ConfigError] { recorded.withLock { $0 } }

    /// Records `error` once (an error already recorded deeper down is passed up as `Recorded`).
    func record(_ error: any Error) {
        guard !(error is Recorded) else { return }
        recorded.withLock { $0.append(ConfigError.from(error)) }
    }

    /// Stands for an error already recorded, when a value cannot be had without it.
    struct Recorded: Error {}

    /// Records the error and returns the fallback when collecting; throws otherwise.
    static func recover<T>(_ fallback: () -> T, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            guard let sink = current else { throw error }
            sink.record(error)
            return fallback()
        }
    }
}

extension Decoder {
    /// A keyed container that rejects any key not listed in `Keys` (every one, when collecting).
    func strictContainer<Keys: CodingKey & CaseIterable>(keyedBy: Keys.Type) throws -> KeyedDecodingContainer<Keys> {
        let allowed = Set(Keys.allCases.map(\.stringValue))
        let everything = try container(keyedBy: AnyCodingKey.self)
        for key in everything.allKeys where !allowed.contains(key.stringValue) {
            let error = ConfigError(path: codingPath + [key], message: "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            guard let sink = DecodeProblems.current else { throw error }
            sink.record(error)
        }
        return try container(keyedBy: Keys.self)
    }
}

extension KeyedDecodingContainer {
    func decode<T: Decodable>(_ key: Key, default value: @autoclosure () -> T) throws -> T {
        try DecodeProblems.recover(value) { try decodeIfPresent(T.self, forKey: key) ?? value() }
    }

    /// A required key: when collecting, its problem is recorded and the value it belongs to is
    /// given up (the enclosing key takes its default).
    func decode<T: Decodable>(_ key: Key) throws -> T {
        do {
            return try decode(T.self, forKey: key)
        } catch {
            guard let sink = DecodeProblems.current else { throw error }
            sink.record(error)
            throw DecodeProblems.Recorded()
        }
    }

    func decodeOptional<T: Decodable>(_ key: Key) throws -> T? {
        try DecodeProblems.recover({ nil }) { try decodeIfPresent(T.self, forKey: key) }
    }
}

/// Decodes a closed set of string values and names the allowed ones on error.
package protocol ConfigEnum: RawRepresentable<String>, CaseIterable, Decodable, Sendable {}

extension ConfigEnum {
    package init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = Self.allCases.map(\.rawValue).joined(separator: " | ")
            throw ConfigError(path: decoder.codingPath, message: "must be one of \(allowed)")
        }
        self = value
    }
}
