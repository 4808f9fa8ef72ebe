import Foundation
import Yams

/// Reads, substitutes, decodes and validates `config.yaml`.
package enum ConfigLoader {
    package static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TollgateConfig {
        try parse(yaml: try read(path: path), environment: environment)
    }

    /// The file's text, or the one problem that stops everything (unreadable, not UTF-8).
    package static func read(path: String) throws(ConfigErrors) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "cannot read config file \(path)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "config file \(path) is not UTF-8")])
        }
        return text
    }

    /// Decodes YAML text into a config; validation is a separate step so CLI overrides can apply first.
    package static func parse(yaml: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TollgateConfig {
        let (config, problems) = try decode(yaml: yaml, environment: environment)
        if !problems.isEmpty { throw ConfigErrors(errors: problems) }
        return config
    }

    /// The config with every key that failed to decode at its default, and the substitution and
    /// decode problems found on the way: a caller adds the semantic problems and reports them all
    /// at once (`TollgateConfig.allProblems`). Throws only when nothing can be decoded (YAML syntax,
    /// a document that is not a mapping).
    package static func decode(
        yaml: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> (
        config: TollgateConfig, problems: [ConfigError]
    ) {
        do {
            let root: Node
            do {
                root = try Yams.compose(yaml: yaml) ?? Node.mapping(.init([]))
            } catch let error as YamlError {
                // `[${VAR}]` reads as a mapping inside a list: the most common way to trip on YAML here.
                let hint =
                    yaml.contains("[${") || yaml.contains("{${") || yaml.contains(", ${")
                    ? " (inside [ ] or { }, quote substitutions: [\"${VAR}\"])" : ""
                throw ConfigError(path: "", message: "invalid YAML: \(Self.describe(error))\(hint)")
            }
            var substitution: [ConfigError] = []
            let substituted = EnvironmentSubstitution(environment: environment).apply(to: root, problems: &substitution)
            let problems = DecodeProblems()
            let config = try DecodeProblems.$current.withValue(problems) {
                try YAMLDecoder().decode(TollgateConfig.self, from: substituted)
            }
            // A value left unexpanded also fails to decode: report the missing variable only.
            let unexpanded = Set(substitution.map(\.path))
            return (config, substitution + problems.errors.filter { !unexpanded.contains($0.path) })
        } catch let error as ConfigErrors {
            throw error
        } catch {
            throw ConfigErrors(errors: [ConfigError.from(error)])
        }
    }

    /// Names the position of a YAML syntax error without quoting the offending text: where it was
    /// noticed, and where the construct it interrupts began (usually the line to fix).
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let start = context.map { ", \($0.text) that began at line \($0.mark.line), column \($0.mark.column)" } ?? ""
            return "\(problem) at line \(mark.line), column \(mark.column)\(start)"
        default:
            return "syntax error"
        }
    }
}
