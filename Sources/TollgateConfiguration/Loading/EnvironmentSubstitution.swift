import Foundation
import Yams

/// Expands `${VAR}` and `${VAR:-default}` in every scalar of a YAML tree, before decoding,
/// so that substituted numbers and booleans still decode as such.
package struct EnvironmentSubstitution {
    let environment: [String: String]

    package init(environment: [String: String]) { self.environment = environment }

    /// Every scalar expanded; a scalar that cannot be is left as it is and its problem added to
    /// `problems`, so that every missing variable is reported at once.
    func apply(to node: Node, path: [any CodingKey] = [], problems: inout [ConfigError]) -> Node {
        switch node {
        case .scalar(var scalar):
            do {
                scalar.string = try expand(scalar.string, path: path)
            } catch {
                problems.append(ConfigError.from(error))
            }
            return .scalar(scalar)
        case .mapping(var mapping):
            for key in Array(mapping.keys) {
                let name = key.string ?? "?"
                if let value = mapping[key] {
                    mapping[key] = apply(to: value, path: path + [AnyCodingKey(stringValue: name)], problems: &problems)
                }
            }
            return .mapping(mapping)
        case .sequence(var sequence):
            for index in sequence.indices {
                sequence[index] = apply(to: sequence[index], path: path + [AnyCodingKey(intValue: index)!], problems: &problems)
            }
            return .sequence(sequence)
        case .alias:
            return node
        }
    }

    package func expand(_ text: String, path: [any CodingKey]) throws -> String {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigError(path: path, message: "unterminated ${ in value")
            }
            let body = rest[start.upperBound..<end]
            let name: Substring
            let fallback: Substring?
            if let sep = body.range(of: ":-") {
                name = body[..<sep.lowerBound]
                fallback = body[sep.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            if name.hasPrefix("file:") {
                out += try Self.fileContents(String(name.dropFirst("file:".count)), path: path)
                rest = rest[rest.index(after: end)...]
                continue
            }
            guard Self.isValidName(name) else {
                throw ConfigError(path: path, message: "invalid variable name in ${…}")
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                throw ConfigError(path: path, message: "environment variable \(name) is not set")
            }
            rest = rest[rest.index(after: end)...]
        }
        out += rest
        return out
    }

    /// `${file:/run/secrets/x}`: a mounted secret, without its trailing newline.
    private static func fileContents(_ file: String, path: [any CodingKey]) throws -> String {
        guard file.hasPrefix("/"), let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, message: "cannot read the file named in ${file:…} (absolute path, readable, UTF-8)")
        }
        var trimmed = Substring(text)
        while let last = trimmed.last, last == "\n" || last == "\r" { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    private static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || first.isASCII && first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
