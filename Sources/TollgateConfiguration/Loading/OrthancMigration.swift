import TollgateKit
import Foundation

/// The migration path from the seed-000 Orthanc plugin: its `DicomWebOAuth.Servers` block, read
/// from an Orthanc JSON configuration (comments allowed, as Orthanc allows them), becomes
/// `outbound.servers`. Strings get the same `${VAR}` rule as config.yaml.
package enum OrthancMigration {
    static let keys: Set<String> = ["Url", "TokenEndpoint", "ClientId", "ClientSecret", "Scope", "TokenRefreshBufferSeconds"]

    package static func servers(
        fromFile path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> [String: OutboundServerConfig] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "cannot read Orthanc configuration \(path)")])
        }
        return try servers(json: text, environment: environment)
    }

    package static func servers(json text: String, environment: [String: String]) throws -> [String: OutboundServerConfig] {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(stripComments(text).utf8))) as? [String: Any] else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "Orthanc configuration is not a JSON object")])
        }
        guard let block = root["DicomWebOAuth"] as? [String: Any], let servers = block["Servers"] as? [String: Any] else {
            throw ConfigErrors(errors: [ConfigError(path: "DicomWebOAuth.Servers", message: "missing in the Orthanc configuration")])
        }
        let substitution = EnvironmentSubstitution(environment: environment)
        var result: [String: OutboundServerConfig] = [:]
        var errors: [ConfigError] = []
        for (name, value) in servers.sorted(by: { $0.key < $1.key }) {
            let at = "DicomWebOAuth.Servers.\(name)"
            guard let entry = value as? [String: Any] else {
                errors.append(ConfigError(path: at, message: "must be an object"))
                continue
            }
            for key in entry.keys.sorted() where !keys.contains(key) {
                errors.append(ConfigError(path: "\(at).\(key)", message: "unknown key (expected \(keys.sorted().joined(separator: ", ")))"))
            }
            func string(_ key: String, required: Bool) -> String? {
                guard let raw = entry[key] else {
                    if required { errors.append(ConfigError(path: "\(at).\(key)", message: "required key is missing")) }
                    return nil
                }
                guard let text = raw as? String else {
                    errors.append(ConfigError(path: "\(at).\(key)", message: "must be a string"))
                    return nil
                }
                do {
                    return try substitution.expand(text, path: [AnyCodingKey(stringValue: at + "." + key)])
                } catch {
                    errors.append(ConfigError.from(error))
                    return nil
                }
            }
            let url = string("Url", required: true)
            let endpoint = string("TokenEndpoint", required: true)
            let clientID = string("ClientId", required: true)
            let secret = string("ClientSecret", required: true)
            let scope = string("Scope", required: false)
            guard let url, let endpoint, let clientID, let secret else { continue }
            // The plugin posted its credentials in the form body.
            var server = OutboundServerConfig(
                url: url, tokenEndpoint: endpoint, clientID: clientID, clientSecret: secret,
                scope: scope, authMethod: .clientSecretPost)
            if let buffer = entry["TokenRefreshBufferSeconds"] {
                if let seconds = buffer as? Int {
                    server.refreshBufferSeconds = seconds
                } else {
                    errors.append(ConfigError(path: "\(at).TokenRefreshBufferSeconds", message: "must be an integer"))
                }
            }
            result[name] = server
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return result
    }

    /// Removes `//` and `/* */` comments outside JSON strings.
    static func stripComments(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        var inString = false
        while i < scalars.count {
            let c = scalars[i]
            let next = i + 1 < scalars.count ? scalars[i + 1] : nil
            if inString {
                out.append(c)
                if c == "\\", let next { out.append(next); i += 2; continue }
                if c == "\"" { inString = false }
                i += 1
            } else if c == "\"" {
                inString = true
                out.append(c)
                i += 1
            } else if c == "/" && next == "/" {
                while i < scalars.count && scalars[i] != "\n" { i += 1 }
            } else if c == "/" && next == "*" {
                i += 2
                while i + 1 < scalars.count && !(scalars[i] == "*" && scalars[i + 1] == "/") { i += 1 }
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(out)
    }

    /// Adds the migrated servers to a config; a name defined in both is an error.
    package static func merge(_ servers: [String: OutboundServerConfig], into config: inout TollgateConfig) throws {
        let clashes = servers.keys.filter { config.outbound.servers[$0] != nil }.sorted()
        if !clashes.isEmpty {
            throw ConfigErrors(errors: clashes.map { ConfigError(path: "outbound.servers.\($0)", message: "also defined in the Orthanc configuration") })
        }
        config.outbound.servers.merge(servers) { current, _ in current }
    }
}
