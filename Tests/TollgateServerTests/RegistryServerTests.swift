import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// The registry as the running service opens it: keys checked at start, connections per key at scrape.
@Suite("registry in the service")
struct RegistryServerTests {
    @Test func theServiceOpensTheRegistryAndCountsConnectionsPerKey() async throws {
        let directory = scratchDirectory()
        let key = RegistryKeyring.generateKeyMaterial()
        let tg = try await RunningTollgate.start { config in
            config.registry.enabled = true
            config.registry.sqlite.path = directory + "/registry.sqlite"
            config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(key))]
        }
        let registry = try #require(tg.app.registry)
        #expect(try await tg.metric(#"tollgate_registry_connections{key_id="k1"}"#) == 0)
        let id = UUID().uuidString
        #expect(
            try await registry.store.insert(
                ConnectionRecord(
                    id: id, organization: "GLOBAL", name: "pacs", flow: .clientCredentials,
                    settings: ConnectionSettings(clientID: "svc", tokenURL: "https://idp.example/token"), status: .notConnected,
                    sealed: try registry.keyring.seal(.init(clientSecret: "registry-secret-XYZ"), rowID: id), createdAt: 0, updatedAt: 0)))
        #expect(try await tg.metric(#"tollgate_registry_connections{key_id="k1"}"#) == 1)
        await tg.stop()
        #expect(!tg.logs.text.contains("registry-secret-XYZ"))

        // Started again without the key that seals the row: refused, naming the key path.
        var config = devConfig(port: try await freePort())
        config.registry.enabled = true
        config.registry.sqlite.path = directory + "/registry.sqlite"
        config.registry.encryption.keys = [RegistryKeyConfig(id: "k2", key: Secret(RegistryKeyring.generateKeyMaterial()))]
        do {
            _ = try await TollgateApp(config: config)
            Issue.record("started with a row sealed under an unlisted key")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.path) == ["registry.encryption.keys"])
        }
    }
}
