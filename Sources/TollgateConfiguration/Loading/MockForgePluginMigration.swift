import Foundation

/// The migration path from seed 003's Python MockForge plugin, which is configured only by its
/// environment. `tollgate serve --mockforge-plugin-env` turns exactly those variables into one
/// introspection issuer:
///
/// - `AUTH_SERVER_URL` (required): the issuer. Discovery at `{AUTH_SERVER_URL}/.well-known/openid-configuration`
///   is tried first; when it fails or names no `introspection_endpoint`, `{AUTH_SERVER_URL}/oauth/introspect`.
/// - `OAUTH_CLIENT_ID` (default `mockforge`) and `OAUTH_CLIENT_SECRET`: the introspection client, HTTP Basic.
/// - `HOST`, `PORT`: the listener, when set.
///
/// The issuer replaces `inbound.issuers` and the embedded dev issuer is switched off: the plugin
/// trusted one authorization server and nothing else.
package enum MockForgePluginMigration {
    package static let issuerName = "mockforge-plugin"
    package static let variables = ["AUTH_SERVER_URL", "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "HOST", "PORT"]

    package static func apply(environment: [String: String], to config: inout TollgateConfig) throws {
        var errors: [ConfigError] = []
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var base = value("AUTH_SERVER_URL")
        while base?.hasSuffix("/") == true { base?.removeLast() }
        if let url = base {
            if !TollgateConfig.isHTTPURL(url) || url.contains("?") || url.contains("#") {
                errors.append(ConfigError(path: "AUTH_SERVER_URL", message: "must be an absolute http(s) URL without query or fragment"))
            }
        } else {
            errors.append(ConfigError(path: "AUTH_SERVER_URL", message: "required by --mockforge-plugin-env (the authorization server's URL)"))
        }
        let secret = value("OAUTH_CLIENT_SECRET")
        if secret == nil {
            errors.append(
                ConfigError(
                    path: "OAUTH_CLIENT_SECRET",
                    message:
                        "not set: Tollgate authenticates to the introspection endpoint (RFC 7662 §2.1) and needs the client's secret"))
        }
        var port: Int?
        if let text = value("PORT") {
            port = Int(text).flatMap { (1...65535).contains($0) ? $0 : nil }
            if port == nil { errors.append(ConfigError(path: "PORT", message: "must be a port number (1-65535)")) }
        }
        guard errors.isEmpty, let base, let secret else { throw ConfigErrors(errors: errors) }

        var introspection = IntrospectionConfig(clientID: value("OAUTH_CLIENT_ID") ?? "mockforge", clientSecret: secret, authMethod: .clientSecretBasic)
        introspection.fallbackEndpoint = base + "/oauth/introspect"
        config.inbound.issuers = [IssuerConfig(name: issuerName, issuer: base, discovery: true, mode: .introspection, introspection: introspection)]
        config.devIssuer.enabled = false
        if let host = value("HOST") { config.server.host = host }
        if let port { config.server.port = port }
    }
}
