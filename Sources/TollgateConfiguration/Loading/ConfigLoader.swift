import TollgateKit
import Foundation
import Yams

/// Reads, substitutes, decodes and validates `config.yaml`.
public enum ConfigLoader {
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TollgateConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "cannot read config file \(path)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "config file \(path) is not UTF-8")])
        }
        return try parse(yaml: text, environment: environment)
    }

    /// Decodes YAML text into a config; validation is a separate step so CLI overrides can apply first.
    public static func parse(yaml: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TollgateConfig {
        do {
            let root: Node
            do {
                root = try Yams.compose(yaml: yaml) ?? Node.mapping(.init([]))
            } catch let error as YamlError {
                // `[${VAR}]` reads as a mapping inside a list: the most common way to trip on YAML here.
                let hint = yaml.contains("[${") || yaml.contains("{${") || yaml.contains(", ${")
                    ? " (inside [ ] or { }, quote substitutions: [\"${VAR}\"])" : ""
                throw ConfigError(path: "", message: "invalid YAML: \(Self.describe(error))\(hint)")
            }
            let substituted = try EnvironmentSubstitution(environment: environment).apply(to: root)
            return try YAMLDecoder().decode(TollgateConfig.self, from: substituted)
        } catch let error as ConfigErrors {
            throw error
        } catch {
            throw ConfigErrors(errors: [ConfigError.from(error)])
        }
    }

    /// Names the position of a YAML syntax error without quoting the offending text.
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        default:
            return "syntax error"
        }
    }
}
