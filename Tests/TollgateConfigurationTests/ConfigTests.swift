import Foundation
import Testing
@testable import TollgateConfiguration
import TollgateKit

@Suite("config.yaml loading and validation")
struct ConfigTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func problems(_ yaml: String, env: [String: String] = [:]) -> [String] {
        do {
            let config = try ConfigLoader.parse(yaml: yaml, environment: env)
            return config.validationErrors().map(\.description)
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func shippedConfigIsValidAndUsesTheEmbeddedIssuer() throws {
        let config = try ConfigLoader.load(path: Self.repoRoot.appendingPathComponent("config.yaml").path, environment: [:]).validated()
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.devIssuer.enabled)
        #expect(config.inbound.issuers.count == 1)
        #expect(config.issuerURL(of: config.inbound.issuers[0]) == "http://127.0.0.1:8080/dev-issuer")
    }

    @Test func embeddedIssuerFollowsTheListenAddress() throws {
        var config = try ConfigLoader.load(path: Self.repoRoot.appendingPathComponent("config.yaml").path, environment: [:])
        config.server.port = 9443
        config.server.host = "0.0.0.0"
        #expect(config.issuerURL(of: config.inbound.issuers[0]) == "http://127.0.0.1:9443/dev-issuer")
        config.devIssuer.issuer = "http://tollgate:8080/dev-issuer"
        #expect(config.issuerURL(of: config.inbound.issuers[0]) == "http://tollgate:8080/dev-issuer")
    }

    /// Audit defect 1: the image listened on 0.0.0.0 with the shipped dev issuer, so anyone who
    /// reached it could mint tokens that pass. Refused unless explicitly allowed.
    @Test func devIssuerIsRefusedOnNonLoopbackAddresses() throws {
        let shipped = try ConfigLoader.load(path: Self.repoRoot.appendingPathComponent("config.yaml").path, environment: [:])
        for host in ["0.0.0.0", "::", "[::]", "10.1.2.3", "tollgate.example", ""] {
            var config = shipped
            config.server.host = host
            let errors = config.validationErrors().filter { $0.path == "dev_issuer.enabled" }
            #expect(errors.count == 1, "\(host)")
            #expect(errors.first?.message.contains("server.host \(host) is not a loopback address") == true, "\(host)")
            config.devIssuer.allowNonLoopback = true
            #expect(config.validationErrors().allSatisfy { $0.path != "dev_issuer.enabled" }, "\(host) allowed explicitly")
        }
        for host in ["127.0.0.1", "127.10.0.5", "::1", "[::1]", "localhost"] {
            var config = shipped
            config.server.host = host
            #expect(config.validationErrors().isEmpty, "\(host)")
        }
        let allowed = try ConfigLoader.parse(
            yaml: "server: {host: 0.0.0.0}\ndev_issuer: {enabled: true, allow_non_loopback: true, clients: [{client_id: a, client_secret: b}]}",
            environment: [:])
        #expect(allowed.validationErrors().isEmpty)
        #expect(allowed.redactedSummary.contains("allow_non_loopback"))
    }

    /// Every mode the shipped config documents for TOLLGATE_DEV_MODE is a valid config.
    @Test func shippedConfigIsValidInEveryDocumentedMode() throws {
        for mode in ["introspection", "auto"] {
            let config = try ConfigLoader.load(path: Self.repoRoot.appendingPathComponent("config.yaml").path, environment: ["TOLLGATE_DEV_MODE": mode])
            #expect(config.validationErrors().isEmpty, "TOLLGATE_DEV_MODE=\(mode): \(config.validationErrors())")
        }
    }

    /// The image's default config has no dev issuer and names what it needs.
    @Test func imageConfigHasNoDevIssuerAndNeedsItsVariables() throws {
        let path = Self.repoRoot.appendingPathComponent("docker/config.image.yaml").path
        let config = try ConfigLoader.load(
            path: path,
            environment: [
                "TOLLGATE_ISSUER": "https://idp.example/realms/x", "TOLLGATE_INTROSPECTION_CLIENT_ID": "tg", "TOLLGATE_INTROSPECTION_CLIENT_SECRET": "s",
            ]
        ).validated()
        #expect(!config.devIssuer.enabled)
        #expect(config.server.host == "0.0.0.0")
        #expect(throws: ConfigErrors.self) { try ConfigLoader.load(path: path, environment: [:]) }
    }

    @Test func environmentSubstitutionWithDefaults() throws {
        let yaml = """
            server:
              host: ${HOST:-127.0.0.2}
              port: ${PORT}
            dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: "${SECRET}"}]}
            """
        let config = try ConfigLoader.parse(yaml: yaml, environment: ["PORT": "9000", "SECRET": "s3"])
        #expect(config.server.host == "127.0.0.2")
        #expect(config.server.port == 9000)
        #expect(config.devIssuer.clients[0].clientSecret.value == "s3")
    }

    @Test func missingVariableNamesVariableAndKeyPath() {
        let found = problems("inbound: {issuers: [{name: x, issuer: 'https://idp', introspection: {client_id: a, client_secret: '${IDP_SECRET}'}}]}")
        #expect(found == ["inbound.issuers[0].introspection.client_secret: environment variable IDP_SECRET is not set"])
    }

    @Test func unknownKeyIsNamed() {
        let found = problems("server: {hostt: x}\ndev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("server.hostt: unknown key"))
    }

    @Test func wrongTypeIsNamed() {
        #expect(problems("server: {port: eighty}") == ["server.port: expected an integer"])
        #expect(problems("inbound: {issuers: {name: x}}") == ["inbound.issuers: expected a list"])
    }

    @Test func badEnumValueListsChoices() {
        #expect(problems("log: {format: xml}") == ["log.format: must be one of json | text"])
    }

    @Test func impossibleValuesAreNamed() {
        let yaml = """
            server: {port: 0, idle_timeout_seconds: 0, max_connections: 0}
            inbound:
              cache: {max_ttl_seconds: -1, negative_ttl_seconds: -5}
              issuers:
                - {name: x, issuer: 'https://idp.example', introspection: {client_id: a, client_secret: b, timeout_ms: 0}}
            """
        let found = problems(yaml)
        #expect(found.contains("server.port: must be between 1 and 65535"))
        #expect(found.contains("server.idle_timeout_seconds: must be between 1 and 3600"))
        #expect(found.contains("server.max_connections: must be between 1 and 1000000"))
        #expect(found.contains("inbound.cache.max_ttl_seconds: must not be negative"))
        #expect(found.contains("inbound.cache.negative_ttl_seconds: must not be negative"))
        #expect(found.contains("inbound.issuers[0].introspection.timeout_ms: must be between 1 and 60000"))
    }

    @Test func aConfigWithNothingToDoIsRefused() {
        #expect(problems("server: {port: 8080}") == ["nothing to do: configure inbound.issuers, outbound.servers or enable dev_issuer"])
    }

    @Test func introspectionWithoutEndpointNeedsDiscovery() {
        let found = problems("inbound: {issuers: [{name: x, issuer: 'https://idp', discovery: false, introspection: {client_id: a, client_secret: b}}]}")
        #expect(found == ["inbound.issuers[0].introspection.endpoint: required when discovery is false"])
    }

    @Test func embeddedIssuerRequiresTheDevIssuer() {
        let found = problems("inbound: {issuers: [{name: x, embedded: true, introspection: {client_id: a, client_secret: b}}]}")
        #expect(found.contains("inbound.issuers[0].embedded: refers to the embedded dev issuer, but dev_issuer.enabled is false"))
    }

    @Test func severalIssuersNeedAnOpaqueDefault() {
        let yaml = """
            inbound:
              issuers:
                - {name: a, issuer: 'https://a', introspection: {client_id: a, client_secret: b}}
                - {name: a, issuer: 'https://b', introspection: {client_id: a, client_secret: b}}
            """
        let found = problems(yaml)
        #expect(found.contains("inbound.issuers[1].name: duplicate issuer name"))
        #expect(found.contains { $0.contains("default_for_opaque") })
    }

    @Test func yamlSyntaxErrorsNameThePosition() {
        let found = problems("server: {host: [unclosed\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("invalid YAML:"))
        #expect(found[0].contains("line"))
    }

    /// The docs promise every problem at once; decoding stopped at the first (five → one).
    @Test func everyDecodeProblemAndMissingVariableIsReportedAtOnce() {
        let yaml = """
            server: {port: eighty, hots: x}
            log: {format: xml}
            inbound:
              cache: {max_entries: 10, ttl: 5}
              issuers:
                - {name: a, issuer: "${IDP_URL}", introspection: {client_id: a, client_secret: "${IDP_SECRET}"}}
            admin: {api_keys: {first: x}}
            proxy: {max_body_bytes: [1]}
            """
        let found = problems(yaml)
        for expected in [
            "server.port: expected an integer", "server.hots: unknown key", "log.format: must be one of json | text",
            "inbound.cache.ttl: unknown key", "admin.api_keys: expected a list", "proxy.max_body_bytes: expected a single value",
            "inbound.issuers[0].issuer: environment variable IDP_URL is not set",
            "inbound.issuers[0].introspection.client_secret: environment variable IDP_SECRET is not set",
        ] {
            #expect(found.contains { $0.hasPrefix(expected) }, "missing \(expected) in \(found)")
        }
        #expect(found.count == 8, "\(found)")
    }

    /// A syntax error names where it was noticed and where the unfinished construct began.
    @Test func yamlSyntaxErrorsPointAtTheLineThatOpensTheProblem() {
        let found = problems("server:\n  port: 8080\n  host: [oops\nlog:\n  level: info\n")
        #expect(found.count == 1)
        #expect(found.first?.contains("line 3") == true, "\(found)")
        let quoted = problems("server:\n  port: 8080\n  host: \"abc\nlog: {level: info}\n")
        #expect(quoted.first?.contains("line 3") == true, "\(quoted)")
    }

    @Test func secretsNeverAppearInErrorsOrSummary() throws {
        let yaml = """
            server: {port: 70000}
            inbound: {issuers: [{name: x, issuer: 'not a url', introspection: {client_id: a, client_secret: hunter2-secret, timeout_ms: 'x'}}]}
            """
        #expect(!problems(yaml).joined().contains("hunter2-secret"))
        let good = try ConfigLoader.parse(yaml: "dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: hunter2-secret}]}").validated()
        #expect(!good.redactedSummary.contains("hunter2-secret"))
        #expect(good.redactedSummary.contains("<redacted>"))
        #expect("\(good.devIssuer.clients[0].clientSecret)" == "<redacted>")
    }

    /// Audit defect 6: `check-config` printed `https://user:pass@…` and `?client_secret=…` as given.
    @Test func credentialsInsideURLsAreRedactedInTheSummary() throws {
        let yaml = """
            outbound:
              servers:
                peer: {url: "https://u:url-pass-123@pacs.example/dicom-web", token_endpoint: "https://idp.example/token?client_secret=qs-secret-123&sig=sig-value-123", client_id: c, client_secret: s}
            admin: {auth_mode: none}
            """
        let summary = try ConfigLoader.parse(yaml: yaml, environment: [:]).validated().redactedSummary
        for secret in ["url-pass-123", "sig-value-123", "qs-secret-123"] { #expect(!summary.contains(secret), "\(secret)") }
        #expect(summary.contains("pacs.example/dicom-web"))
    }
}
