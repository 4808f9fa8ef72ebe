/// A configured secret. Its description is redacted so that a secret never reaches a log line,
/// an error message or `check-config` output by accident.
package struct Secret: Sendable, Equatable, Decodable, CustomStringConvertible, CustomDebugStringConvertible {
    package let value: String

    package init(_ value: String) { self.value = value }

    package init(from decoder: any Decoder) throws {
        self.value = try decoder.singleValueContainer().decode(String.self)
    }

    package var description: String { "<redacted>" }
    package var debugDescription: String { "<redacted>" }
}
