import Foundation
import Logging
import Testing
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// Opening the registry: keys checked against every stored row, the development key file, rotation.
@Suite("connection registry")
struct ConnectionRegistryTests {
    static func config(directory: String, keys: [(String, String)]) -> RegistryConfig {
        var config = RegistryConfig()
        config.enabled = true
        config.sqlite.path = directory + "/registry.sqlite"
        config.encryption.keys = keys.map { RegistryKeyConfig(id: $0.0, key: Secret($0.1)) }
        return config
    }

    static func insert(_ registry: ConnectionRegistry, _ name: String) async throws {
        let id = UUID().uuidString
        let record = ConnectionRecord(
            id: id, organization: "GLOBAL", name: name, flow: .clientCredentials,
            settings: ConnectionSettings(clientID: "svc", tokenURL: "https://idp.example/token"),
            status: .notConnected, sealed: try registry.keyring.seal(.init(clientSecret: "secret-\(name)"), rowID: id),
            createdAt: 0, updatedAt: 0)
        #expect(try await registry.store.insert(record))
    }

    @Test func rotatingKeysRewrapsEveryRowAndARemovedKeyStopsTheStart() async throws {
        let directory = scratchDirectory()
        let old = RegistryKeyring.generateKeyMaterial(), new = RegistryKeyring.generateKeyMaterial()
        let first = try await ConnectionRegistry.open(config: Self.config(directory: directory, keys: [("2026-01", old)]), logger: Logger(label: "t"))
        for name in ["a", "b", "c"] { try await Self.insert(first, name) }
        #expect(try await first.rowsPerKey() == ["2026-01": 3])
        await first.close()

        // The new key goes first; the old one stays listed until the rows have moved.
        let both = Self.config(directory: directory, keys: [("2026-11", new), ("2026-01", old)])
        let rotating = try await ConnectionRegistry.open(config: both, logger: Logger(label: "t"))
        try await Self.insert(rotating, "d")
        #expect(try await rotating.rowsPerKey() == ["2026-01": 3, "2026-11": 1])
        let (moved, current) = try await rotating.rewrap()
        #expect(moved == 3 && current == 1)
        #expect(try await rotating.rowsPerKey() == ["2026-01": 0, "2026-11": 4])
        for record in try await rotating.store.all() {
            #expect(try rotating.keyring.open(record.sealed, rowID: record.id).clientSecret == "secret-\(record.name)")
        }
        await rotating.close()

        let newOnly = try await ConnectionRegistry.open(config: Self.config(directory: directory, keys: [("2026-11", new)]), logger: Logger(label: "t"))
        await newOnly.close()

        // A key that still seals rows cannot be dropped: the start stops and says which.
        let freshDirectory = scratchDirectory()
        let sealedByOld = try await ConnectionRegistry.open(
            config: Self.config(directory: freshDirectory, keys: [("2026-01", old)]), logger: Logger(label: "t"))
        try await Self.insert(sealedByOld, "x")
        await sealedByOld.close()
        do {
            _ = try await ConnectionRegistry.open(config: Self.config(directory: freshDirectory, keys: [("2026-11", new)]), logger: Logger(label: "t"))
            Issue.record("a registry with rows under an unlisted key opened")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.path) == ["registry.encryption.keys"])
            #expect(errors.description.contains("2026-01"))
        }
    }

    @Test func theDevelopmentKeyFileIsMadeOnceAndPrivate() async throws {
        let directory = scratchDirectory()
        var config = Self.config(directory: directory, keys: [])
        config.encryption.devKeyFile = directory + "/keys/registry.key"
        let first = try await ConnectionRegistry.open(config: config, logger: Logger(label: "t"))
        try await Self.insert(first, "a")
        await first.close()
        let key = try String(contentsOfFile: directory + "/keys/registry.key", encoding: .utf8)
        #expect(Data(base64Encoded: key.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 32)
        #expect((try FileManager.default.attributesOfItem(atPath: directory + "/keys/registry.key")[.posixPermissions] as? Int) == 0o600)
        let again = try await ConnectionRegistry.open(config: config, logger: Logger(label: "t"))
        defer { Task { await again.close() } }
        #expect(try String(contentsOfFile: directory + "/keys/registry.key", encoding: .utf8) == key, "the key is kept, not regenerated")
        let record = try #require(try await again.store.find(organization: "GLOBAL", name: "a"))
        #expect(try again.keyring.open(record.sealed, rowID: record.id).clientSecret == "secret-a")
    }

    @Test func badRegistryKeysAreNamed() throws {
        let yaml = """
            registry:
              enabled: true
              sqlite: {path: ""}
              encryption:
                keys:
                  - {id: k1, key: "c2hvcnQ="}
                  - {id: k1, key: "\(RegistryKeyring.generateKeyMaterial())"}
                  - {id: "", key: "not base64"}
                dev_key_file: /tmp/x
            """
        let paths = Set(try ConfigLoader.parse(yaml: yaml).validationErrors().map(\.path))
        #expect(
            paths.isSuperset(of: [
                "registry.sqlite.path", "registry.encryption.keys[0].key", "registry.encryption.keys[1].id",
                "registry.encryption.keys[2].id", "registry.encryption.keys[2].key", "registry.encryption.dev_key_file",
            ]))
        let keyless = try ConfigLoader.parse(yaml: "registry: {enabled: true}").validationErrors().map(\.path).filter { $0.hasPrefix("registry") }
        #expect(keyless == ["registry.encryption.keys"])
        #expect(throws: (any Error).self) { try ConfigLoader.parse(yaml: "registry: {store: postgresql}") }
        #expect(throws: (any Error).self) { try ConfigLoader.parse(yaml: "registry: {encryption: {key: x}}") }
    }

    @Test func badAPIPrefixesAreNamedEachOnce() throws {
        let yaml = """
            registry:
              api_prefixes: ["/oauth", "oauth", "/api/oauth/", "/token", "/oauth", "/a//b", "/Caps"]
              expose_refresh_tokens: true
            """
        let config = try ConfigLoader.parse(yaml: yaml)
        #expect(config.registry.exposeRefreshTokens)
        let paths = config.validationErrors().map(\.path).filter { $0.hasPrefix("registry.api_prefixes") }
        #expect(paths == (1...6).map { "registry.api_prefixes[\($0)]" }, "\(paths)")
        #expect(try ConfigLoader.parse(yaml: "registry: {api_prefixes: []}").validationErrors().map(\.path).contains("registry.api_prefixes"))
        let defaults = RegistryConfig()
        #expect(defaults.apiPrefixes == ["/oauth", "/api/oauth"] && !defaults.exposeRefreshTokens)
    }
}
