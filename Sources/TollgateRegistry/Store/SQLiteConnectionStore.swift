package import Foundation
#if canImport(Glibc)
import Glibc
#endif
package import Logging
import NIOCore
import SQLiteNIO

/// The embedded store: one SQLite file (the library is bundled, nothing to install), for one
/// Tollgate process. The file and its directory are made private to the user (0600 / 0700).
/// A serving process holds an exclusive lock beside the file: refresh tokens are serialised by
/// in-process single flight, which a second server on the same file would defeat.
package final class SQLiteConnectionStore: ConnectionStore {
    private let connection: SQLiteConnection
    /// The `.lock` file's descriptor while the exclusive lock is held, else -1.
    private let lockDescriptor: Int32

    private init(connection: SQLiteConnection, lockDescriptor: Int32) {
        self.connection = connection
        self.lockDescriptor = lockDescriptor
    }

    /// `exclusive`: take the one-server lock (a server); maintenance commands that only make
    /// compare-and-swap writes (`tollgate registry rewrap`) run beside a server without it.
    package static func open(path: String, exclusive: Bool = true, logger: Logger) async throws -> SQLiteConnectionStore {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw ConnectionStoreError("cannot create \(path)")
            }
        }
        let lock = exclusive ? try lockExclusively(path + ".lock") : -1
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            if lock >= 0 { _ = Glibc.close(lock) }
            throw error
        }
        let store = SQLiteConnectionStore(connection: connection, lockDescriptor: lock)
        _ = try await connection.query("PRAGMA journal_mode = WAL")
        _ = try await connection.query("PRAGMA busy_timeout = 5000")
        return store
    }

    /// Each entry brings the schema from its index to the next version (`PRAGMA user_version`).
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE connections (
                id TEXT PRIMARY KEY, organization TEXT NOT NULL, name TEXT NOT NULL, flow TEXT NOT NULL,
                settings BLOB NOT NULL, status TEXT NOT NULL, status_message TEXT, generation INTEGER NOT NULL,
                key_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, ciphertext BLOB NOT NULL,
                expires_at REAL, last_refresh_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                UNIQUE (organization, name))
            """,
            """
            CREATE TABLE connection_dependencies (
                connection_id TEXT NOT NULL, dependent_id TEXT NOT NULL, dependent_name TEXT NOT NULL, created_at REAL NOT NULL,
                PRIMARY KEY (connection_id, dependent_id))
            """,
        ],
        [
            """
            CREATE TABLE authorization_states (
                state_hash TEXT PRIMARY KEY, connection_id TEXT NOT NULL, key_id TEXT NOT NULL, wrapped_key BLOB NOT NULL,
                ciphertext BLOB NOT NULL, redirect_uri TEXT NOT NULL, expires_at REAL NOT NULL, created_at REAL NOT NULL)
            """,
            "ALTER TABLE connections ADD COLUMN lease_owner TEXT",
            "ALTER TABLE connections ADD COLUMN lease_until REAL",
        ],
        ["CREATE TABLE shared_documents (key TEXT PRIMARY KEY, value BLOB NOT NULL, updated_at REAL NOT NULL)"],
        ["ALTER TABLE connections ADD COLUMN last_test_at REAL", "ALTER TABLE connections ADD COLUMN created_by TEXT"],
        ["CREATE TABLE recorded_once (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)"],
    ]

    package func migrate() async throws {
        let version = try await connection.query("PRAGMA user_version").first?.column("user_version")?.integer ?? 0
        guard version <= Self.migrations.count else {
            throw ConnectionStoreError("the registry database is at schema version \(version), newer than this Tollgate knows (\(Self.migrations.count))")
        }
        for next in Int(version)..<Self.migrations.count {
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                for statement in Self.migrations[next] { _ = try await connection.query(statement) }
                _ = try await connection.query("PRAGMA user_version = \(next + 1)")
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw ConnectionStoreError("registry schema migration to version \(next + 1) failed: \(error)")
            }
        }
    }

    private static let columns =
        "id, organization, name, flow, settings, status, status_message, generation, key_id, wrapped_key, ciphertext, expires_at, last_refresh_at, created_at, updated_at, last_test_at, created_by"

    package func insert(_ record: ConnectionRecord) async throws -> Bool {
        let rows = try await connection.query(
            "INSERT INTO connections (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            Self.binds(record))
        return !rows.isEmpty
    }

    package func find(organization: String, name: String) async throws -> ConnectionRecord? {
        try await connection.query(
            "SELECT \(Self.columns) FROM connections WHERE organization = ? AND name = ?",
            [.text(organization), .text(name)]
        ).first.map { try Self.record($0) }
    }

    package func find(id: String) async throws -> ConnectionRecord? {
        try await connection.query("SELECT \(Self.columns) FROM connections WHERE id = ?", [.text(id)]).first.map { try Self.record($0) }
    }

    package func list(organization: String) async throws -> [ConnectionRecord] {
        try await connection.query(
            "SELECT \(Self.columns) FROM connections WHERE organization = ? ORDER BY name",
            [.text(organization)]
        ).map { try Self.record($0) }
    }

    package func all() async throws -> [ConnectionRecord] {
        try await connection.query("SELECT \(Self.columns) FROM connections ORDER BY organization, name").map { try Self.record($0) }
    }

    package func countByKeyID() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await connection.query("SELECT key_id, count(*) AS n FROM connections GROUP BY key_id") {
            if let id = row.column("key_id")?.string, let count = row.column("n")?.integer { counts[id] = Int(count) }
        }
        return counts
    }

    package func update(_ record: ConnectionRecord, from generation: Int) async throws -> Bool {
        let binds = Self.stateBinds(record, generation: generation + 1) + [.text(record.id), .integer(SQLiteInt64(generation))]
        let rows = try await connection.query(
            """
            UPDATE connections SET flow = ?, settings = ?, status = ?, status_message = ?, generation = ?, key_id = ?,
                wrapped_key = ?, ciphertext = ?, expires_at = ?, last_refresh_at = ?, created_at = ?, updated_at = ?,
                last_test_at = ?, created_by = ?
            WHERE id = ? AND generation = ? RETURNING id
            """, binds)
        return !rows.isEmpty
    }

    package func delete(id: String) async throws -> Bool {
        _ = try await connection.query("DELETE FROM connection_dependencies WHERE connection_id = ?", [.text(id)])
        _ = try await connection.query("DELETE FROM authorization_states WHERE connection_id = ?", [.text(id)])
        return !(try await connection.query("DELETE FROM connections WHERE id = ? RETURNING id", [.text(id)])).isEmpty
    }

    package func addDependency(connectionID: String, _ dependency: ConnectionDependency) async throws {
        _ = try await connection.query(
            """
            INSERT INTO connection_dependencies (connection_id, dependent_id, dependent_name, created_at)
            SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM connections WHERE id = ?)
            ON CONFLICT (connection_id, dependent_id) DO UPDATE SET dependent_name = excluded.dependent_name
            """,
            [
                .text(connectionID), .text(dependency.dependentID), .text(dependency.dependentName), .float(dependency.createdAt),
                .text(connectionID),
            ])
    }

    package func dependencies(connectionID: String) async throws -> [ConnectionDependency] {
        try await connection.query(
            "SELECT dependent_id, dependent_name, created_at FROM connection_dependencies WHERE connection_id = ? ORDER BY dependent_id",
            [.text(connectionID)]
        ).map { row in
            ConnectionDependency(
                dependentID: row.column("dependent_id")?.string ?? "", dependentName: row.column("dependent_name")?.string ?? "",
                createdAt: row.column("created_at")?.double ?? 0)
        }
    }

    package func removeDependency(connectionID: String, dependentID: String) async throws -> Bool {
        !(try await connection.query(
            "DELETE FROM connection_dependencies WHERE connection_id = ? AND dependent_id = ? RETURNING dependent_id",
            [.text(connectionID), .text(dependentID)])).isEmpty
    }

    package func insertAuthorization(_ pending: PendingAuthorization, now: Double) async throws {
        _ = try await connection.query("DELETE FROM authorization_states WHERE expires_at <= ?", [.float(now)])
        _ = try await connection.query(
            """
            INSERT INTO authorization_states (state_hash, connection_id, key_id, wrapped_key, ciphertext, redirect_uri, expires_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(pending.stateHash), .text(pending.connectionID), .text(pending.sealed.keyID),
                .blob(ByteBuffer(bytes: pending.sealed.wrappedKey)), .blob(ByteBuffer(bytes: pending.sealed.ciphertext)),
                .text(pending.redirectURI), .float(pending.expiresAt), .float(pending.createdAt),
            ])
    }

    package func takeAuthorization(stateHash: String) async throws -> PendingAuthorization? {
        let rows = try await connection.query(
            """
            DELETE FROM authorization_states WHERE state_hash = ?
            RETURNING state_hash, connection_id, key_id, wrapped_key, ciphertext, redirect_uri, expires_at, created_at
            """, [.text(stateHash)])
        guard let row = rows.first else { return nil }
        guard let hash = row.column("state_hash")?.string, let id = row.column("connection_id")?.string,
            let keyID = row.column("key_id")?.string, let wrapped = row.column("wrapped_key")?.blob,
            let ciphertext = row.column("ciphertext")?.blob, let redirect = row.column("redirect_uri")?.string,
            let expires = row.column("expires_at")?.double, let created = row.column("created_at")?.double
        else {
            throw ConnectionStoreError("an authorization state row is incomplete")
        }
        return PendingAuthorization(
            stateHash: hash, connectionID: id,
            sealed: SealedSecrets(keyID: keyID, wrappedKey: Data(wrapped.readableBytesView), ciphertext: Data(ciphertext.readableBytesView)),
            redirectURI: redirect, expiresAt: expires, createdAt: created)
    }

    package func acquireLease(id: String, owner: String, until: Double, now: Double) async throws -> Bool {
        !(try await connection.query(
            """
            UPDATE connections SET lease_owner = ?, lease_until = ?
            WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?) RETURNING id
            """, [.text(owner), .float(until), .text(id), .text(owner), .float(now)])).isEmpty
    }

    package func releaseLease(id: String, owner: String) async throws {
        _ = try await connection.query(
            "UPDATE connections SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
            [.text(id), .text(owner)])
    }

    /// For tests of the version check.
    func setUserVersion(_ version: Int) async throws {
        _ = try await connection.query("PRAGMA user_version = \(version)")
    }

    private static func lockExclusively(_ path: String) throws -> Int32 {
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ConnectionStoreError("cannot create \(path)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            _ = Glibc.close(descriptor)
            throw ConnectionStoreError(
                "another Tollgate is serving this SQLite registry (\(path) is locked): SQLite is for one process; give replicas PostgreSQL")
        }
        return descriptor
    }

    package func putDocument(key: String, value: Data, now: Double) async throws {
        _ = try await connection.query(
            "INSERT OR REPLACE INTO shared_documents (key, value, updated_at) VALUES (?, ?, ?)",
            [.text(key), .blob(ByteBuffer(bytes: value)), .float(now)])
    }

    package func document(key: String) async throws -> Data? {
        guard let row = try await connection.query("SELECT value FROM shared_documents WHERE key = ?", [.text(key)]).first,
            case .blob(let buffer)? = row.column("value")
        else { return nil }
        return Data(buffer.readableBytesView)
    }

    package func deleteDocuments(prefix: String, updatedBefore before: Double) async throws {
        _ = try await connection.query(
            "DELETE FROM shared_documents WHERE substr(key, 1, ?) = ? AND updated_at < ?",
            [.integer(prefix.utf8.count), .text(prefix), .float(before)])
    }

    package func recordOnce(key: String, until: Double, now: Double) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO recorded_once (key, expires_at) VALUES (?, ?)
            ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE recorded_once.expires_at <= ?
            RETURNING key
            """, [.text(key), .float(until), .float(now)])
        return !inserted.isEmpty
    }

    package func forgetRecorded(before now: Double) async throws {
        _ = try await connection.query("DELETE FROM recorded_once WHERE expires_at <= ?", [.float(now)])
    }

    /// One process: nobody else to tell.
    package func broadcast(_ message: String) async throws {}
    package func listen(_ receive: @escaping @Sendable (String) async -> Void) async {}

    package func close() async {
        try? await connection.close()
        if lockDescriptor >= 0 { _ = Glibc.close(lockDescriptor) }
    }

    /// Every column, in `columns` order.
    private static func binds(_ record: ConnectionRecord) -> [SQLiteData] {
        [.text(record.id), .text(record.organization), .text(record.name)] + stateBinds(record, generation: record.generation)
    }

    /// The columns a write may change (all but id, organization and name), in `columns` order.
    private static func stateBinds(_ record: ConnectionRecord, generation: Int) -> [SQLiteData] {
        [
            .text(record.flow.rawValue), .blob(ByteBuffer(bytes: record.settings.encoded())), .text(record.status.rawValue),
            record.statusMessage.map { .text($0) } ?? .null, .integer(SQLiteInt64(generation)), .text(record.sealed.keyID),
            .blob(ByteBuffer(bytes: record.sealed.wrappedKey)), .blob(ByteBuffer(bytes: record.sealed.ciphertext)),
            record.expiresAt.map { .float($0) } ?? .null, record.lastRefreshAt.map { .float($0) } ?? .null,
            .float(record.createdAt), .float(record.updatedAt), record.lastTestAt.map { .float($0) } ?? .null,
            record.createdBy.map { .text($0) } ?? .null,
        ]
    }

    private static func record(_ row: SQLiteRow) throws -> ConnectionRecord {
        func text(_ name: String) throws -> String {
            guard let value = row.column(name)?.string else { throw ConnectionStoreError("registry row lacks \(name)") }
            return value
        }
        func blob(_ name: String) throws -> Data {
            guard let value = row.column(name)?.blob else { throw ConnectionStoreError("registry row lacks \(name)") }
            return Data(value.readableBytesView)
        }
        func optionalDouble(_ name: String) -> Double? {
            guard let value = row.column(name), !value.isNull else { return nil }
            return value.double
        }
        guard let flow = ConnectionFlow(rawValue: try text("flow")), let status = ConnectionStatus(rawValue: try text("status")),
            let generation = row.column("generation")?.integer
        else {
            throw ConnectionStoreError("registry row has an unknown flow, status or generation")
        }
        let message = row.column("status_message"), creator = row.column("created_by")
        return ConnectionRecord(
            id: try text("id"), organization: try text("organization"), name: try text("name"), flow: flow,
            settings: try ConnectionSettings.decoded(try blob("settings")),
            status: status, statusMessage: message?.isNull == false ? message?.string : nil, generation: Int(generation),
            sealed: SealedSecrets(keyID: try text("key_id"), wrappedKey: try blob("wrapped_key"), ciphertext: try blob("ciphertext")),
            expiresAt: optionalDouble("expires_at"), lastRefreshAt: optionalDouble("last_refresh_at"),
            lastTestAt: optionalDouble("last_test_at"), createdAt: optionalDouble("created_at") ?? 0,
            createdBy: creator?.isNull == false ? creator?.string : nil, updatedAt: optionalDouble("updated_at") ?? 0)
    }
}
