import Foundation
package import Logging
package import TollgateConfiguration

/// The runtime connection registry: its store, opened and migrated, and its keyring, checked
/// against every stored row before anything is served.
package final class ConnectionRegistry: Sendable {
    package let store: any ConnectionStore
    package let keyring: RegistryKeyring
    /// This process among those sharing the store: lease owner and sender of replica messages.
    package let processID = "tollgate-" + UUID().uuidString.lowercased()
    /// Whether other processes share the store (PostgreSQL), so that what replicas remember is shared.
    package var isShared: Bool { store is PostgresConnectionStore }

    init(store: any ConnectionStore, keyring: RegistryKeyring) {
        self.store = store
        self.keyring = keyring
    }

    /// Fails, naming the config key, on an unusable key, an unreadable store or a row sealed
    /// under a key the configuration no longer lists.
    /// `exclusive`: false for maintenance beside a running server (see `SQLiteConnectionStore.open`).
    package static func open(config: RegistryConfig, exclusive: Bool = true, logger: Logger) async throws -> ConnectionRegistry {
        let keyring: RegistryKeyring
        do {
            keyring = try RegistryKeys.keyring(config.encryption, logger: logger)
        } catch {
            throw ConfigErrors(errors: [ConfigError(path: "registry.encryption", message: "\(error)")])
        }
        let store: any ConnectionStore
        do {
            switch config.store {
            case .memory: store = MemoryConnectionStore()
            case .sqlite: store = try await SQLiteConnectionStore.open(path: config.sqlite.path, exclusive: exclusive, logger: logger)
            case .postgres:
                store = try PostgresConnectionStore.open(
                    url: config.postgres.url?.value ?? "", schema: config.postgres.schema,
                    maxConnections: config.postgres.maxConnections, logger: logger)
            }
        } catch {
            throw ConfigErrors(errors: [ConfigError(path: "registry.\(config.store.rawValue)", message: "cannot open the store: \(error)")])
        }
        let registry = ConnectionRegistry(store: store, keyring: keyring)
        do {
            try await store.migrate()
            let unknown = try await store.countByKeyID().keys.filter { id in !keyring.keys.contains { $0.id == id } }.sorted()
            guard unknown.isEmpty else {
                throw ConfigErrors(errors: [
                    ConfigError(
                        path: "registry.encryption.keys",
                        message:
                            "connections are sealed under key id(s) \(unknown.joined(separator: ", ")), which are not listed: list them after the current key (then run `tollgate registry rewrap`)"
                    )
                ])
            }
        } catch {
            await store.close()
            if error is ConfigErrors { throw error }
            throw ConfigErrors(errors: [ConfigError(path: "registry", message: "\(error)")])
        }
        return registry
    }

    /// How many connections each key id seals, every configured key included (for
    /// `tollgate_registry_connections{key_id}`).
    package func rowsPerKey() async throws -> [String: Int] {
        var counts = try await store.countByKeyID()
        for key in keyring.keys where counts[key.id] == nil { counts[key.id] = 0 }
        return counts
    }

    /// Moves every row to the current key (the data keys are re-wrapped, the secrets untouched).
    /// A row another writer changed meanwhile is read again.
    package func rewrap() async throws -> (moved: Int, alreadyCurrent: Int) {
        var moved = 0, current = 0
        for var record in try await store.all() {
            while true {
                guard let sealed = try keyring.rewrapped(record.sealed, rowID: record.id) else {
                    current += 1
                    break
                }
                var next = record
                next.sealed = sealed
                if try await store.update(next, from: record.generation) {
                    moved += 1
                    break
                }
                guard let reread = try await store.find(organization: record.organization, name: record.name), reread.id == record.id else { break }
                record = reread
            }
        }
        return (moved, current)
    }

    package func close() async {
        await store.close()
    }
}
