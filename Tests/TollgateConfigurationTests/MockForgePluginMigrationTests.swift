import Testing
@testable import TollgateConfiguration
import TollgateKit

@Suite("seed 003 migration: the MockForge plugin's environment")
struct MockForgePluginMigrationTests {
    func migrated(_ environment: [String: String]) throws -> TollgateConfig {
        var config = try ConfigLoader.parse(
            yaml: """
                server: {host: 127.0.0.1, port: 8080}
                inbound:
                  issuers:
                    - {name: dev, embedded: true, introspection: {client_id: a, client_secret: b}}
                dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
                """, environment: [:])
        try MockForgePluginMigration.apply(environment: environment, to: &config)
        return try config.validated()
    }

    /// Decoding and validation problems alike, every file taken as readable.
    func problems(_ yaml: String) -> [String] {
        do {
            return try ConfigLoader.parse(yaml: yaml, environment: [:]).validationErrors(fileExists: { _ in true }).map(\.description)
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theFiveVariablesBecomeOneIntrospectionIssuer() throws {
        let config = try migrated([
            "AUTH_SERVER_URL": "https://auth.example.com/", "OAUTH_CLIENT_ID": "mf", "OAUTH_CLIENT_SECRET": "s3cret",
            "HOST": "0.0.0.0", "PORT": "9090",
        ])
        #expect(config.inbound.issuers.count == 1)
        let issuer = try #require(config.inbound.issuers.first)
        #expect(issuer.name == "mockforge-plugin")
        #expect(issuer.issuer == "https://auth.example.com")
        #expect(issuer.discovery && issuer.mode == .introspection)
        #expect(issuer.introspection?.endpoint == nil)
        #expect(issuer.introspection?.fallbackEndpoint == "https://auth.example.com/oauth/introspect")
        #expect(issuer.introspection?.clientID == "mf")
        #expect(issuer.introspection?.clientSecret.value == "s3cret")
        #expect(issuer.introspection?.authMethod == .clientSecretBasic)
        #expect(!config.devIssuer.enabled)
        #expect(config.server.host == "0.0.0.0" && config.server.port == 9090)
        #expect(!config.redactedSummary.contains("s3cret"))
    }

    @Test func unsetVariablesKeepThePluginsDefaultsAndTheConfigsListener() throws {
        let config = try migrated(["AUTH_SERVER_URL": "http://keycloak:8080/realms/x", "OAUTH_CLIENT_SECRET": "s"])
        #expect(config.inbound.issuers.first?.introspection?.clientID == "mockforge")
        #expect(config.server.host == "127.0.0.1" && config.server.port == 8080)
    }

    @Test func everyProblemIsReportedAtOnceByVariableName() {
        do {
            _ = try migrated(["AUTH_SERVER_URL": "auth.example.com", "PORT": "http"])
            Issue.record("expected errors")
        } catch let errors as ConfigErrors {
            let found = errors.errors.map(\.path)
            #expect(found == ["AUTH_SERVER_URL", "OAUTH_CLIENT_SECRET", "PORT"])
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: ConfigErrors.self) { try migrated(["OAUTH_CLIENT_SECRET": "s"]) }
    }

    @Test func aFallbackEndpointNeedsDiscoveryAndNoEndpoint() {
        let yaml = """
            inbound:
              issuers:
                - name: a
                  issuer: https://a/
                  discovery: false
                  introspection: {endpoint: https://a/i, fallback_endpoint: https://a/oauth/introspect, client_id: c, client_secret: s}
            dev_issuer: {enabled: false}
            """
        #expect(problems(yaml) == ["inbound.issuers[0].introspection.fallback_endpoint: only used with discovery on and no endpoint (endpoint always wins)"])
    }

    @Test func userinfoSettingsAreChecked() {
        let yaml = """
            inbound:
              issuers:
                - name: a
                  issuer: https://a/
                  discovery: false
                  introspection: {endpoint: https://a/i, client_id: c, client_secret: s}
                  userinfo: {enabled: true, timeout_ms: 0, claims: [email, scope, "two words"], on_error: explode}
            dev_issuer: {enabled: false}
            """
        let found = problems(yaml)
        #expect(found.count == 1 && found[0].hasPrefix("inbound.issuers[0].userinfo.on_error"), "\(found)")
        let fixed = problems(yaml.replacingOccurrences(of: ", on_error: explode", with: ""))
        #expect(
            fixed == [
                "inbound.issuers[0].userinfo.endpoint: required when discovery is false",
                "inbound.issuers[0].userinfo.timeout_ms: must be between 1 and 60000",
                "inbound.issuers[0].userinfo.claims[1]: scope always comes from the token, never from userinfo",
                "inbound.issuers[0].userinfo.claims[2]: must be a claim name",
            ], "\(fixed)")
    }
}
