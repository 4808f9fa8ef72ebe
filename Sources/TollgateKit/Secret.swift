/// A configured secret. Its description is redacted so that a secret never reaches a log line,
/// an error message or `check-config` output by accident.
public struct Secret: Sendable, Equatable, Decodable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        self.value = try decoder.singleValueContainer().decode(String.self)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
