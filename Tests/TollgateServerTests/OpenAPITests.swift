import Foundation
import Testing
import TollgateConfiguration
import TollgateKit
@testable import TollgateServer
import Yams

/// docs/openapi.yaml documents every route the router registers (CI validates the document itself).
@Suite("OpenAPI document")
struct OpenAPITests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `/proxy/:server/**` → `/proxy/{server}/{path}`.
    static func openAPIPath(_ route: String) -> String {
        route.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            if segment == "**" { return "{path}" }
            if segment.hasPrefix(":") { return "{" + segment.dropFirst() + "}" }
            return String(segment)
        }.joined(separator: "/")
    }

    @Test func everyRegisteredRouteIsDocumented() async throws {
        let text = try String(contentsOf: Self.repoRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        #expect((document["info"] as? [String: Any])?["version"] as? String == TollgateVersion.string)
        let app = try await TollgateApp(
            config: devConfig(port: 8080) { config in
                config.outbound.servers = [
                    "peer": OutboundServerConfig(
                        url: "http://127.0.0.1:9/", tokenEndpoint: "http://127.0.0.1:9/token", clientID: "c", clientSecret: "s")
                ]
                config.admin = AdminConfig(authMode: .apiKey, apiKeys: ["openapi-test-key-0123456789"])
                config.registry.enabled = true
                config.registry.store = .memory
                config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="))]
                config.console.enabled = true
                config.console.baseURL = "https://tollgate.example.org"
                config.console.oidc.issuer = "https://idp.example.org/realms/h"
                config.console.oidc.clientID = "tollgate-console"
                config.console.oidc.authMethod = .none
                config.console.required = ConsoleRequirementConfig(scopes: ["tollgate.console"])
            }, logger: LogCapture().logger())
        // The console's HTML pages are for people, not an API: docs/console.md describes them.
        let all = app.servedRoutes().routes
        let routes = all.filter { !$0.path.description.hasPrefix("/console") }
        #expect(all.count - routes.count >= 12, "the console's pages are registered")
        await app.shutdownClients()
        #expect(routes.count > 40)
        var documented = 0
        for route in routes {
            let path = Self.openAPIPath(route.path.description)
            let operations = paths[path] as? [String: Any]
            #expect(operations?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(path) is not in docs/openapi.yaml")
            documented += 1
        }
        #expect(documented == routes.count)
    }
}
