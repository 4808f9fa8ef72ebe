package import Foundation
package import Logging
import NIOCore
import PostgresNIO

/// The store replicas share: PostgreSQL through a pooled `PostgresClient`. Migrations run under
/// an advisory lock, so replicas starting together migrate once. A refresh is claimed with a
/// lease taken through `FOR UPDATE SKIP LOCKED`, and every write is compare-and-swap on the
/// generation, so two replicas never both spend a one-time refresh token.
package final class PostgresConnectionStore: ConnectionStore {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let schema: String
    private let logger: Logger

    private init(client: PostgresClient, schema: String, logger: Logger) {
        self.client = client
        self.schema = schema
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// `url`: `postgres://user:password@host:port/database?sslmode=…`.
    package static func open(url: String, schema: String, maxConnections: Int, logger: Logger) throws -> PostgresConnectionStore {
        var configuration = try configuration(url: url)
        configuration.options.maximumConnections = maxConnections
        configuration.options.additionalStartupParameters = [("search_path", schema), ("application_name", "tollgate")]
        return PostgresConnectionStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger), schema: schema, logger: logger)
    }

    static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme?.lowercased() ?? ""),
            let host = parts.host, !host.isEmpty
        else {
            throw ConnectionStoreError("registry.postgres.url is not a postgres:// URL")
        }
        let tls: PostgresClient.Configuration.TLS
        switch parts.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        let database = String(parts.path.drop { $0 == "/" })
        return PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: parts.user ?? "postgres",
            password: parts.password, database: database.isEmpty ? nil : database, tls: tls)
    }

    /// Each entry brings the schema from its index to the next version.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE connections (
                id TEXT PRIMARY KEY, organization TEXT NOT NULL, name TEXT NOT NULL, flow TEXT NOT NULL,
                settings BYTEA NOT NULL, status TEXT NOT NULL, status_message TEXT, generation BIGINT NOT NULL,
                key_id TEXT NOT NULL, wrapped_key BYTEA NOT NULL, ciphertext BYTEA NOT NULL,
                expires_at DOUBLE PRECISION, last_refresh_at DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL, lease_owner TEXT, lease_until DOUBLE PRECISION,
                UNIQUE (organization, name))
            """,
            """
            CREATE TABLE connection_dependencies (
                connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE, dependent_id TEXT NOT NULL,
                dependent_name TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (connection_id, dependent_id))
            """,
            """
            CREATE TABLE authorization_states (
                state_hash TEXT PRIMARY KEY, connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
                key_id TEXT NOT NULL, wrapped_key BYTEA NOT NULL, ciphertext BYTEA NOT NULL, redirect_uri TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL, created_at DOUBLE PRECISION NOT NULL)
            """,
        ],
        ["CREATE TABLE shared_documents (key TEXT PRIMARY KEY, value BYTEA NOT NULL, updated_at DOUBLE PRECISION NOT NULL)"],
        ["ALTER TABLE connections ADD COLUMN last_test_at DOUBLE PRECISION", "ALTER TABLE connections ADD COLUMN created_by TEXT"],
        ["CREATE TABLE recorded_once (key TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)"],
    ]

    package func migrate() async throws {
        do {
            try await client.withTransaction(logger: logger) { connection in
                // One migrating replica at a time; the others wait here, then find nothing to do.
                try await connection.query("SELECT pg_advisory_xact_lock(7306911230419)", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
                try await connection.query(
                    PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(schema).tollgate_registry_schema (version INT NOT NULL)"),
                    logger: logger)
                var version = 0
                for try await value in try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT version FROM \(schema).tollgate_registry_schema"), logger: logger
                ).decode(Int.self) {
                    version = value
                }
                guard version <= Self.migrations.count else {
                    throw ConnectionStoreError(
                        "the registry database is at schema version \(version), newer than this Tollgate knows (\(Self.migrations.count))")
                }
                for next in version..<Self.migrations.count {
                    for statement in Self.migrations[next] { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                }
                if version < Self.migrations.count {
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(schema).tollgate_registry_schema"), logger: logger)
                    try await connection.query("INSERT INTO tollgate_registry_schema (version) VALUES (\(Self.migrations.count))", logger: logger)
                }
            }
        } catch let error as PostgresTransactionError {
            if let closure = error.closureError as? ConnectionStoreError { throw closure }
            throw ConnectionStoreError("registry schema migration failed: \(Self.describe(error.closureError ?? error.commitError ?? error.beginError))")
        } catch {
            throw ConnectionStoreError("cannot reach PostgreSQL: \(Self.describe(error))")
        }
    }

    /// A PostgreSQL error's message, never the query's bound values.
    static func describe(_ error: (any Error)?) -> String {
        guard let error else { return "unknown error" }
        if let sql = error as? PSQLError {
            return sql.serverInfo?[.message] ?? "\(sql.code)"
        }
        return String(describing: type(of: error))
    }

    private static let columns =
        "id, organization, name, flow, settings, status, status_message, generation, key_id, wrapped_key, ciphertext, expires_at, last_refresh_at, created_at, updated_at, last_test_at, created_by"

    private typealias Row = (
        String, String, String, String, ByteBuffer, String, String?, Int64, String, ByteBuffer, ByteBuffer,
        Double?, Double?, Double, Double, Double?, String?
    )

    private func records(_ query: PostgresQuery) async throws -> [ConnectionRecord] {
        var out: [ConnectionRecord] = []
        for try await row in try await client.query(query, logger: logger).decode(Row.self) {
            guard let flow = ConnectionFlow(rawValue: row.3), let status = ConnectionStatus(rawValue: row.5) else {
                throw ConnectionStoreError("registry row has an unknown flow or status")
            }
            out.append(
                ConnectionRecord(
                    id: row.0, organization: row.1, name: row.2, flow: flow, settings: try ConnectionSettings.decoded(Data(row.4.readableBytesView)),
                    status: status,
                    statusMessage: row.6, generation: Int(row.7),
                    sealed: SealedSecrets(keyID: row.8, wrappedKey: Data(row.9.readableBytesView), ciphertext: Data(row.10.readableBytesView)),
                    expiresAt: row.11, lastRefreshAt: row.12, lastTestAt: row.15, createdAt: row.13, createdBy: row.16, updatedAt: row.14))
        }
        return out
    }

    private func returnsRow(_ query: PostgresQuery) async throws -> Bool {
        for try await _ in try await client.query(query, logger: logger) { return true }
        return false
    }

    package func insert(_ record: ConnectionRecord) async throws -> Bool {
        let r = record
        return try await returnsRow(
            """
            INSERT INTO connections (id, organization, name, flow, settings, status, status_message, generation, key_id, wrapped_key,
                ciphertext, expires_at, last_refresh_at, created_at, updated_at, last_test_at, created_by)
            VALUES (\(r.id), \(r.organization), \(r.name), \(r.flow.rawValue), \(r.settings.encoded()), \(r.status.rawValue), \(r.statusMessage),
                \(Int64(r.generation)), \(r.sealed.keyID), \(r.sealed.wrappedKey), \(r.sealed.ciphertext), \(r.expiresAt),
                \(r.lastRefreshAt), \(r.createdAt), \(r.updatedAt), \(r.lastTestAt), \(r.createdBy))
            ON CONFLICT DO NOTHING RETURNING id
            """)
    }

    package func find(organization: String, name: String) async throws -> ConnectionRecord? {
        try await records(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM connections WHERE organization = $1 AND name = $2",
                binds: Self.binds(organization, name))
        ).first
    }

    package func find(id: String) async throws -> ConnectionRecord? {
        try await records(PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM connections WHERE id = $1", binds: Self.binds(id))).first
    }

    package func list(organization: String) async throws -> [ConnectionRecord] {
        try await records(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM connections WHERE organization = $1 ORDER BY name",
                binds: Self.binds(organization)))
    }

    package func all() async throws -> [ConnectionRecord] {
        try await records(PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM connections ORDER BY organization, name"))
    }

    package func countByKeyID() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for try await (id, count) in try await client.query("SELECT key_id, count(*) FROM connections GROUP BY key_id", logger: logger)
            .decode((String, Int64).self)
        {
            counts[id] = Int(count)
        }
        return counts
    }

    package func update(_ record: ConnectionRecord, from generation: Int) async throws -> Bool {
        let r = record
        return try await returnsRow(
            """
            UPDATE connections SET flow = \(r.flow.rawValue), settings = \(r.settings.encoded()), status = \(r.status.rawValue),
                status_message = \(r.statusMessage), generation = \(Int64(generation + 1)), key_id = \(r.sealed.keyID),
                wrapped_key = \(r.sealed.wrappedKey), ciphertext = \(r.sealed.ciphertext), expires_at = \(r.expiresAt),
                last_refresh_at = \(r.lastRefreshAt), created_at = \(r.createdAt), updated_at = \(r.updatedAt),
                last_test_at = \(r.lastTestAt), created_by = \(r.createdBy)
            WHERE id = \(r.id) AND generation = \(Int64(generation)) RETURNING id
            """)
    }

    package func delete(id: String) async throws -> Bool {
        // Dependencies and pending authorizations go with it (ON DELETE CASCADE).
        try await returnsRow("DELETE FROM connections WHERE id = \(id) RETURNING id")
    }

    package func addDependency(connectionID: String, _ dependency: ConnectionDependency) async throws {
        try await client.query(
            """
            INSERT INTO connection_dependencies (connection_id, dependent_id, dependent_name, created_at)
            SELECT \(connectionID), \(dependency.dependentID), \(dependency.dependentName), \(dependency.createdAt)
            WHERE EXISTS (SELECT 1 FROM connections WHERE id = \(connectionID))
            ON CONFLICT (connection_id, dependent_id) DO UPDATE SET dependent_name = excluded.dependent_name
            """, logger: logger)
    }

    package func dependencies(connectionID: String) async throws -> [ConnectionDependency] {
        var out: [ConnectionDependency] = []
        for try await (id, name, created) in try await client.query(
            """
            SELECT dependent_id, dependent_name, created_at FROM connection_dependencies WHERE connection_id = \(connectionID) ORDER BY dependent_id
            """, logger: logger
        ).decode((String, String, Double).self) {
            out.append(ConnectionDependency(dependentID: id, dependentName: name, createdAt: created))
        }
        return out
    }

    package func removeDependency(connectionID: String, dependentID: String) async throws -> Bool {
        try await returnsRow(
            """
            DELETE FROM connection_dependencies WHERE connection_id = \(connectionID) AND dependent_id = \(dependentID) RETURNING dependent_id
            """)
    }

    package func insertAuthorization(_ pending: PendingAuthorization, now: Double) async throws {
        let p = pending
        try await client.query("DELETE FROM authorization_states WHERE expires_at <= \(now)", logger: logger)
        try await client.query(
            """
            INSERT INTO authorization_states (state_hash, connection_id, key_id, wrapped_key, ciphertext, redirect_uri, expires_at, created_at)
            VALUES (\(p.stateHash), \(p.connectionID), \(p.sealed.keyID), \(p.sealed.wrappedKey), \(p.sealed.ciphertext), \(p.redirectURI),
                \(p.expiresAt), \(p.createdAt))
            """, logger: logger)
    }

    package func takeAuthorization(stateHash: String) async throws -> PendingAuthorization? {
        let rows = try await client.query(
            """
            DELETE FROM authorization_states WHERE state_hash = \(stateHash)
            RETURNING state_hash, connection_id, key_id, wrapped_key, ciphertext, redirect_uri, expires_at, created_at
            """, logger: logger
        ).decode((String, String, String, ByteBuffer, ByteBuffer, String, Double, Double).self)
        for try await row in rows {
            return PendingAuthorization(
                stateHash: row.0, connectionID: row.1,
                sealed: SealedSecrets(keyID: row.2, wrappedKey: Data(row.3.readableBytesView), ciphertext: Data(row.4.readableBytesView)),
                redirectURI: row.5, expiresAt: row.6, createdAt: row.7)
        }
        return nil
    }

    package func acquireLease(id: String, owner: String, until: Double, now: Double) async throws -> Bool {
        // SKIP LOCKED: a replica that finds the row locked by another's claim moves on at once.
        try await returnsRow(
            """
            UPDATE connections SET lease_owner = \(owner), lease_until = \(until)
            WHERE id = (SELECT id FROM connections WHERE id = \(id)
                        AND (lease_owner IS NULL OR lease_owner = \(owner) OR lease_until < \(now)) FOR UPDATE SKIP LOCKED)
            RETURNING id
            """)
    }

    package func releaseLease(id: String, owner: String) async throws {
        try await client.query(
            "UPDATE connections SET lease_owner = NULL, lease_until = NULL WHERE id = \(id) AND lease_owner = \(owner)",
            logger: logger)
    }

    package func putDocument(key: String, value: Data, now: Double) async throws {
        try await client.query(
            """
            INSERT INTO shared_documents (key, value, updated_at) VALUES (\(key), \(ByteBuffer(bytes: value)), \(now))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, logger: logger)
    }

    package func document(key: String) async throws -> Data? {
        for try await value in try await client.query("SELECT value FROM shared_documents WHERE key = \(key)", logger: logger).decode(ByteBuffer.self) {
            return Data(value.readableBytesView)
        }
        return nil
    }

    package func deleteDocuments(prefix: String, updatedBefore before: Double) async throws {
        try await client.query("DELETE FROM shared_documents WHERE starts_with(key, \(prefix)) AND updated_at < \(before)", logger: logger)
    }

    package func recordOnce(key: String, until: Double, now: Double) async throws -> Bool {
        // One statement: two replicas recording the same key at once cannot both succeed.
        try await returnsRow(
            """
            INSERT INTO recorded_once (key, expires_at) VALUES (\(key), \(until))
            ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE recorded_once.expires_at <= \(now)
            RETURNING key
            """)
    }

    package func forgetRecorded(before now: Double) async throws {
        try await client.query("DELETE FROM recorded_once WHERE expires_at <= \(now)", logger: logger)
    }

    /// The NOTIFY channel, per schema, so registries sharing a server but not a schema stay apart.
    private var channel: String { "tollgate_registry_" + schema }

    package func broadcast(_ message: String) async throws {
        try await client.query("SELECT pg_notify(\(channel), \(message))", logger: logger)
    }

    package func listen(_ receive: @escaping @Sendable (String) async -> Void) async {
        let channel = self.channel
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        for try await notification in notifications { await receive(notification.payload) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("registry notifications interrupted; listening again", metadata: ["error": "\(Self.describe(error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Drops the schema's tables (tests).
    func dropEverything() async throws {
        try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE"), logger: logger)
    }

    package func close() async {
        runner.cancel()
        _ = await runner.value
    }

    private static func binds(_ values: String...) -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        return bindings
    }
}
