import TollgateKit
/// A configuration problem, always tied to the key path it concerns. Messages never carry
/// configured values, so a secret cannot leak through an error.
package struct ConfigError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let message: String

    package init(path: [any CodingKey], message: String) {
        self.init(path: ConfigError.render(path), message: message)
    }

    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    package var description: String { path.isEmpty ? message : "\(path): \(message)" }

    package static func render(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }

    /// Translates decoder errors into path-named messages without echoing values.
    static func from(_ error: any Error) -> ConfigError {
        switch error {
        case let error as ConfigError:
            return error
        case DecodingError.typeMismatch(let type, let context):
            return ConfigError(path: context.codingPath, message: "expected \(describe(type))")
        case DecodingError.valueNotFound(let type, let context):
            return ConfigError(path: context.codingPath, message: "expected \(describe(type)), found nothing")
        case DecodingError.keyNotFound(let key, let context):
            return ConfigError(path: context.codingPath + [key], message: "required key is missing")
        case DecodingError.dataCorrupted(let context):
            return ConfigError(path: context.codingPath, message: "invalid value")
        default:
            return ConfigError(path: "", message: "unreadable YAML (\(type(of: error)))")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        case is String.Type, is Secret.Type: "a string"
        case is Double.Type: "a number"
        default:
            // Yams names the node kind it wanted: a scalar where one value belongs.
            "\(type)".contains("Scalar") ? "a single value" : ["Array", "Sequence", "["].contains(where: "\(type)".contains) ? "a list" : "a mapping"
        }
    }
}

/// Several configuration problems reported together.
package struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    package let errors: [ConfigError]
    package init(errors: [ConfigError]) { self.errors = errors }
    package var description: String { errors.map { "  - \($0)" }.joined(separator: "\n") }
}
