import Foundation
import Logging
import Testing
@testable import TollgateRegistry

/// The one contract every store keeps, run against each of them.
@Suite("connection store contract")
struct ConnectionStoreContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, postgres
        var testDescription: String { rawValue }

        /// PostgreSQL runs when `TOLLGATE_TEST_POSTGRES_URL` names a server (`.ci/run` starts one).
        static var available: [Kind] { testPostgresURL == nil ? [.memory, .sqlite] : allCases }
    }

    /// A fresh, migrated store; SQLite in a directory of its own.
    static func open(_ kind: Kind) async throws -> (any ConnectionStore, String?) {
        switch kind {
        case .memory:
            return (MemoryConnectionStore(), nil)
        case .sqlite:
            let directory = scratchDirectory()
            let store = try await SQLiteConnectionStore.open(path: directory + "/data/registry.sqlite", logger: Logger(label: "test"))
            try await store.migrate()
            return (store, directory)
        case .postgres:
            let store = try await openPostgres(schema: uniqueSchema())
            return (store, nil)
        }
    }

    static let keyring = try! RegistryKeyring(keys: [("k1", RegistryKeyring.generateKeyMaterial())])

    static func record(
        _ name: String, organization: String = "GLOBAL", secrets: ConnectionSecrets = .init(clientSecret: "s3cr3t-client")
    ) throws -> ConnectionRecord {
        let id = UUID().uuidString
        return ConnectionRecord(
            id: id, organization: organization, name: name, flow: .clientCredentials,
            settings: ConnectionSettings(clientID: "svc", tokenURL: "https://idp/token"), status: .notConnected,
            sealed: try keyring.seal(secrets, rowID: id), createdAt: 1_000, updatedAt: 1_000)
    }

    @Test(arguments: Kind.available)
    func sharedDocumentsAreReplacedWholeAndForgottenByAge(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        #expect(try await store.document(key: "orthanc.roles") == nil)
        try await store.putDocument(key: "orthanc.roles", value: Data(#"{"roles":{}}"#.utf8), now: 100)
        try await store.putDocument(key: "orthanc.roles", value: Data(#"{"roles":{"a":{}}}"#.utf8), now: 200)
        #expect(try await store.document(key: "orthanc.roles") == Data(#"{"roles":{"a":{}}}"#.utf8))
        try await store.putDocument(key: "orthanc.user.old", value: Data("1".utf8), now: 100)
        try await store.putDocument(key: "orthanc.user.new", value: Data("2".utf8), now: 300)
        try await store.putDocument(key: "orthanc.usex", value: Data("3".utf8), now: 100)
        try await store.deleteDocuments(prefix: "orthanc.user.", updatedBefore: 250)
        #expect(try await store.document(key: "orthanc.user.old") == nil)
        #expect(try await store.document(key: "orthanc.user.new") == Data("2".utf8))
        #expect(try await store.document(key: "orthanc.usex") == Data("3".utf8), "only the prefix is forgotten")
        #expect(try await store.document(key: "orthanc.roles") != nil)
    }

    /// DPoP proof `jti`s across replicas: a key is recorded once while it lives, again after.
    @Test(arguments: Kind.available)
    func aKeyIsRecordedOnceWhileItLives(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        #expect(try await store.recordOnce(key: "jti-a", until: 160, now: 100))
        #expect(try await !store.recordOnce(key: "jti-a", until: 170, now: 110), "a replay while it lives")
        #expect(try await store.recordOnce(key: "jti-b", until: 160, now: 110))
        #expect(try await store.recordOnce(key: "jti-a", until: 260, now: 200), "past its life it may come again")
        #expect(try await !store.recordOnce(key: "jti-a", until: 270, now: 210))
        try await store.forgetRecorded(before: 200)
        #expect(try await store.recordOnce(key: "jti-b", until: 300, now: 150), "forgotten")
        #expect(try await !store.recordOnce(key: "jti-a", until: 300, now: 220), "still live, kept")
    }

    @Test(arguments: Kind.available)
    func createReadListAndDelete(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        var azure = try Self.record("azure")
        azure.createdBy = "jack@example.org"
        azure.lastTestAt = 1_234.5
        #expect(try await store.insert(azure))
        #expect(try await store.insert(try Self.record("google")))
        #expect(try await store.insert(try Self.record("azure", organization: "ORG-7")), "names are per organisation")
        #expect(try await !store.insert(try Self.record("azure")), "one name per organisation")
        #expect(try await store.find(organization: "GLOBAL", name: "azure") == azure, "every column round-trips, created_by and last_test_at too")
        #expect(try await store.find(organization: "ORG-8", name: "azure") == nil)
        #expect(try await store.list(organization: "GLOBAL").map(\.name) == ["azure", "google"])
        #expect(try await store.all().count == 3)
        #expect(try await store.delete(id: azure.id))
        #expect(try await !store.delete(id: azure.id))
        #expect(try await store.find(organization: "GLOBAL", name: "azure") == nil)
    }

    @Test(arguments: Kind.available)
    func writesAreCompareAndSwapOnTheGeneration(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        var record = try Self.record("pacs")
        #expect(try await store.insert(record))
        record.status = .testing
        record.expiresAt = 5_000
        record.lastTestAt = 4_000
        #expect(try await store.update(record, from: 1))
        let stored = try #require(try await store.find(organization: "GLOBAL", name: "pacs"))
        #expect(stored.generation == 2 && stored.status == .testing && stored.expiresAt == 5_000 && stored.statusMessage == nil)
        #expect(stored.lastTestAt == 4_000)
        #expect(try await !store.update(record, from: 1), "a stale generation never overwrites")

        // Many writers from the same read: exactly one wins.
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for attempt in 0..<20 {
                var copy = stored
                copy.statusMessage = "writer \(attempt)"
                group.addTask { try await store.update(copy, from: 2) }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await store.find(organization: "GLOBAL", name: "pacs")?.generation == 3)
    }

    @Test(arguments: Kind.available)
    func dependenciesAreKeptPerConnectionAndGoWithIt(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        let record = try Self.record("pacs")
        #expect(try await store.insert(record))
        try await store.addDependency(connectionID: record.id, .init(dependentID: "wf-1", dependentName: "Nightly export", createdAt: 10))
        try await store.addDependency(connectionID: record.id, .init(dependentID: "wf-1", dependentName: "Nightly export v2", createdAt: 20))
        try await store.addDependency(connectionID: record.id, .init(dependentID: "wf-2", dependentName: "Viewer", createdAt: 30))
        try await store.addDependency(connectionID: "no-such-connection", .init(dependentID: "wf-3", dependentName: "x", createdAt: 40))
        let listed = try await store.dependencies(connectionID: record.id)
        #expect(
            listed == [
                .init(dependentID: "wf-1", dependentName: "Nightly export v2", createdAt: 10),
                .init(dependentID: "wf-2", dependentName: "Viewer", createdAt: 30),
            ])
        #expect(try await store.dependencies(connectionID: "no-such-connection").isEmpty)
        #expect(try await store.removeDependency(connectionID: record.id, dependentID: "wf-2"))
        #expect(try await !store.removeDependency(connectionID: record.id, dependentID: "wf-2"))
        #expect(try await store.delete(id: record.id))
        #expect(try await store.dependencies(connectionID: record.id).isEmpty)
    }

    @Test(arguments: Kind.available)
    func aPendingAuthorizationIsTakenOnceAndGoesWithItsConnection(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        let record = try Self.record("vna")
        #expect(try await store.insert(record))
        #expect(try await store.find(id: record.id) == record)
        #expect(try await store.find(id: "nope") == nil)
        func pending(_ hash: String, expiresAt: Double) throws -> PendingAuthorization {
            PendingAuthorization(
                stateHash: hash, connectionID: record.id,
                sealed: try Self.keyring.seal(ConnectionSecrets(codeVerifier: "verifier-" + hash), rowID: "state/" + hash),
                redirectURI: "https://tollgate.example/oauth/callback/vna", expiresAt: expiresAt, createdAt: 1_000)
        }
        let first = try pending("aa", expiresAt: 1_600)
        try await store.insertAuthorization(first, now: 1_000)
        try await store.insertAuthorization(try pending("bb", expiresAt: 1_050), now: 1_000)
        #expect(try await store.takeAuthorization(stateHash: "aa") == first)
        #expect(try await store.takeAuthorization(stateHash: "aa") == nil, "a state works once")

        // Expired ones are dropped when the next is stored.
        try await store.insertAuthorization(try pending("cc", expiresAt: 1_700), now: 1_100)
        #expect(try await store.takeAuthorization(stateHash: "bb") == nil)

        // Racing takers: exactly one gets it.
        try await store.insertAuthorization(try pending("dd", expiresAt: 1_700), now: 1_100)
        let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { try await store.takeAuthorization(stateHash: "dd") != nil } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(taken == 1)

        #expect(try await store.delete(id: record.id))
        #expect(try await store.takeAuthorization(stateHash: "cc") == nil, "deleting a connection drops its pending authorizations")
    }

    @Test(arguments: Kind.available)
    func leasesSerialiseRefreshesAndLapse(_ kind: Kind) async throws {
        let (store, _) = try await Self.open(kind)
        defer { Task { await store.close() } }
        let record = try Self.record("pacs")
        #expect(try await store.insert(record))
        #expect(try await !store.acquireLease(id: "nope", owner: "a", until: 100, now: 1), "no row, no lease")
        #expect(try await store.acquireLease(id: record.id, owner: "a", until: 100, now: 1))
        #expect(try await !store.acquireLease(id: record.id, owner: "b", until: 100, now: 50), "held by a")
        #expect(try await store.acquireLease(id: record.id, owner: "a", until: 200, now: 50), "a renews its own")
        try await store.releaseLease(id: record.id, owner: "b")
        #expect(try await !store.acquireLease(id: record.id, owner: "b", until: 300, now: 150), "only the owner releases")
        #expect(try await store.acquireLease(id: record.id, owner: "b", until: 300, now: 201), "a lapsed lease is taken over")
        try await store.releaseLease(id: record.id, owner: "b")
        #expect(try await store.acquireLease(id: record.id, owner: "c", until: 400, now: 202))
        #expect(try await store.find(id: record.id)?.generation == 1, "a lease is not a write")

        // Racing claimants: exactly one wins.
        let other = try Self.record("other")
        #expect(try await store.insert(other))
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 { group.addTask { try await store.acquireLease(id: other.id, owner: "r\(index)", until: 500, now: 300) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }

    @Test func sqliteKeepsEverythingAcrossARestartAndMigratesOnce() async throws {
        let (first, directory) = try await Self.open(.sqlite)
        let path = try #require(directory) + "/data/registry.sqlite"
        let record = try Self.record("pacs")
        #expect(try await first.insert(record))
        await first.close()
        let reopened = try await SQLiteConnectionStore.open(path: path, logger: Logger(label: "test"))
        defer { Task { await reopened.close() } }
        try await reopened.migrate()
        #expect(try await reopened.find(organization: "GLOBAL", name: "pacs") == record)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aDatabaseFromANewerTollgateIsRefused() async throws {
        let directory = scratchDirectory()
        let store = try await SQLiteConnectionStore.open(path: directory + "/registry.sqlite", logger: Logger(label: "test"))
        defer { Task { await store.close() } }
        try await store.migrate()
        try await store.setUserVersion(SQLiteConnectionStore.migrations.count + 1)
        await #expect(throws: ConnectionStoreError.self) { try await store.migrate() }
    }

    @Test(.enabled(if: testPostgresURL != nil)) func postgresMigratesOnceUnderConcurrentStartsAndDumpsNoSecret() async throws {
        let schema = uniqueSchema()
        let stores = try await withThrowingTaskGroup(of: PostgresConnectionStore.self) { group in
            for _ in 0..<3 { group.addTask { try await openPostgres(schema: schema) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { Task { for store in stores { await store.close() } } }
        let secrets = ConnectionSecrets(
            clientSecret: "client-secret-PGLEAK-1", accessToken: "access-token-PGLEAK-2",
            refreshToken: "refresh-token-PGLEAK-3")
        let record = try Self.record("pacs", secrets: secrets)
        #expect(try await stores[0].insert(record))
        #expect(try await stores[2].find(organization: "GLOBAL", name: "pacs") == record, "one database, every replica")
        let dump = try await pgDump(schema: schema)
        #expect(dump.contains("tollgate_registry_schema") && dump.contains("pacs"), "the dump holds the schema and the row")
        for secret in ["client-secret-PGLEAK-1", "access-token-PGLEAK-2", "refresh-token-PGLEAK-3", "PGLEAK"] {
            #expect(!dump.contains(secret), "pg_dump holds \(secret)")
        }
    }

    @Test func postgresIsRequiredWhenCIAsksForIt() {
        #expect(
            ProcessInfo.processInfo.environment["TOLLGATE_TEST_REQUIRE_POSTGRES"] == nil || testPostgresURL != nil,
            "TOLLGATE_TEST_REQUIRE_POSTGRES is set but TOLLGATE_TEST_POSTGRES_URL is not: the PostgreSQL store would go untested")
    }

    /// The at-rest promise: no secret or token byte in the database files.
    @Test func noSecretReachesTheSQLiteFiles() async throws {
        let (store, directory) = try await Self.open(.sqlite)
        let secrets = ConnectionSecrets(
            clientSecret: "client-secret-LEAKCHECK-1", accessToken: "access-token-LEAKCHECK-2",
            refreshToken: "refresh-token-LEAKCHECK-3")
        var record = try Self.record("pacs", secrets: secrets)
        #expect(try await store.insert(record))
        record.sealed = try Self.keyring.seal(secrets, rowID: record.id)
        #expect(try await store.update(record, from: 1))
        await store.close()
        let files = try FileManager.default.subpathsOfDirectory(atPath: try #require(directory))
        var scanned = 0
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: directory! + "/" + file) else { continue }
            scanned += bytes.count
            for secret in ["client-secret-LEAKCHECK-1", "access-token-LEAKCHECK-2", "refresh-token-LEAKCHECK-3", "LEAKCHECK"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds \(secret)")
            }
        }
        #expect(scanned > 0)
    }
}
