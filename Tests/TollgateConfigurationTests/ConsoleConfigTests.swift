import Testing
@testable import TollgateConfiguration
import TollgateKit

/// `console:`: every problem named by its key path, all at once; nothing unsafe by default.
@Suite("console config")
struct ConsoleConfigTests {
    func problems(_ yaml: String) -> [String] {
        do {
            return try ConfigLoader.parse(yaml: yaml, environment: [:]).validationErrors().map(\.description).filter { !$0.hasPrefix("nothing to do") }
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func offByDefaultAndEveryMissingPieceIsNamed() {
        #expect(TollgateConfig().console.enabled == false)
        let found = problems(
            """
            console:
              enabled: true
              oidc: {scopes: [profile], auth_method: client_secret_post, timeout_ms: 5}
              session: {store: registry, idle_timeout_seconds: 10, absolute_timeout_seconds: 100}
            """)
        for expected in [
            "console.base_url", "console.oidc.issuer", "console.oidc.client_id", "console.oidc.client_secret", "console.oidc.scopes",
            "console.oidc.timeout_ms", "console.required", "console.session.store", "console.session.idle_timeout_seconds",
            "console.session.absolute_timeout_seconds",
        ] {
            #expect(found.contains { $0.hasPrefix(expected + ":") }, "\(expected) in \(found)")
        }
    }

    @Test func aPlainHTTPBaseURLIsOnlyForLoopbackAndMTLSNeedsCertificates() {
        let base = """
            console:
              enabled: true
              base_url: %@
              oidc: {issuer: "https://idp.example/realms/h", client_id: tollgate-console, auth_method: none}
              required: {groups: [pacs-admins]}
            """
        #expect(
            problems(base.replacingOccurrences(of: "%@", with: "http://tollgate.hospital.example")).contains { $0.hasPrefix("console.base_url: must be https") }
        )
        #expect(problems(base.replacingOccurrences(of: "%@", with: "https://tollgate.hospital.example")).isEmpty)
        #expect(problems(base.replacingOccurrences(of: "%@", with: "http://127.0.0.1:8080")).isEmpty)
        #expect(problems("console: {enabled: true, auth: mtls}").contains { $0.hasPrefix("console.auth: mtls needs server.tls") })
        #expect(problems("console: {enabled: true, unknown_key: 1}").contains { $0.contains("console.unknown_key") })
    }
}
