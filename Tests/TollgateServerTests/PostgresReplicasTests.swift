import AsyncHTTPClient
import Foundation
import Logging
import Testing
@testable import TollgateRegistry
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// Three replicas (each its own PostgreSQL pool, lease owner and single flight) sharing one
/// database, refreshing one-time refresh tokens at an IdP that refuses any reuse.
@Suite("registry replicas on PostgreSQL", .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"] != nil))
struct PostgresReplicasTests {
    static func replicas(_ count: Int, leaseSeconds: Int) async throws -> (replicas: [RuntimeConnections], close: @Sendable () async -> Void) {
        var config = RegistryConfig()
        config.enabled = true
        config.store = .postgres
        config.postgres.url = Secret(ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"] ?? "")
        config.postgres.schema = "r_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        config.postgres.maxConnections = 8
        config.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(RegistryKeyring.generateKeyMaterial()))]
        config.leaseSeconds = leaseSeconds
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        var replicas: [RuntimeConnections] = []
        for _ in 0..<count {
            let registry = try await ConnectionRegistry.open(config: config, logger: Logger(label: "replica"))
            replicas.append(RuntimeConnections(registry: registry, config: config, reservedNames: [], http: http, clock: SystemClock()))
        }
        let opened = replicas
        return (
            opened,
            {
                for replica in opened { await replica.registry.close() }
                try? await http.shutdown()
            }
        )
    }

    @Test func oneRefreshPerGenerationAcrossReplicasAndALapsedLeaseIsTakenOver() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let (replicas, close) = try await Self.replicas(3, leaseSeconds: 5)
        defer { Task { await close() } }
        _ = try await replicas[0].catalog.create(
            organization: "GLOBAL",
            input: try ConnectionRequests.decode(
                ConnectionRequest.self, from: Data(ConnectionFlowsTests.refreshBody(idp, refreshToken: idp.mintRefreshToken()).utf8)
            ).input)
        let before = try await replicas[1].catalog.get(organization: "GLOBAL", name: "archive").record.generation

        // 50 forced refreshes at once, spread over the replicas; the IdP is slow, so they overlap.
        idp.setRefreshDelay(milliseconds: 40)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask { (try? await replicas[index % 3].tokens.credentials(organization: "GLOBAL", name: "archive", force: true)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0 }, "\(outcomes.filter { !$0 }.count) of 50 failed")
        #expect(idp.invalidGrants == 0, "no refresh token was presented twice")
        let after = try await replicas[2].catalog.get(organization: "GLOBAL", name: "archive").record.generation
        #expect(idp.grants("refresh_token") == after - before, "exactly one refresh per generation")
        #expect(idp.liveRefreshTokens.count == 1)

        // A replica died holding the lease (as after kill -9): another waits for it to lapse, then refreshes.
        idp.setRefreshDelay(milliseconds: 0)
        let record = try await replicas[0].catalog.get(organization: "GLOBAL", name: "archive").record
        let lapses = SystemClock().now() + 2
        #expect(try await replicas[0].registry.store.acquireLease(id: record.id, owner: "killed-replica", until: lapses, now: SystemClock().now()))
        let asked = idp.grants("refresh_token")
        _ = try await replicas[1].tokens.credentials(organization: "GLOBAL", name: "archive", force: true)
        #expect(SystemClock().now() >= lapses, "no refresh while the dead replica's lease ran")
        #expect(idp.grants("refresh_token") == asked + 1 && idp.invalidGrants == 0)

        // Consent withdrawn at the IdP: one replica learns it, every replica answers without asking again.
        idp.revokeConsent()
        await #expect(
            throws: RegistryError(.reauthorizationRequired, "the IdP refused archive's refresh token: authorize again or import a new one")
                .with(status: .failed, message: "REAUTHORIZATION_REQUIRED: the IdP refused the refresh token (invalid_grant)")
        ) {
            _ = try await replicas[2].tokens.credentials(organization: "GLOBAL", name: "archive", force: true)
        }
        let refusedAt = idp.grants("refresh_token")
        for replica in replicas {
            await #expect(throws: RegistryError.self) { _ = try await replica.tokens.credentials(organization: "GLOBAL", name: "archive", minTTL: 0) }
        }
        #expect(idp.grants("refresh_token") == refusedAt, "no retry storm")
        #expect(try await replicas[0].catalog.get(organization: "GLOBAL", name: "archive").record.status == .failed)
    }

    /// Two Tollgates sharing the registry's PostgreSQL: an eviction at one reaches the other's
    /// decision cache through NOTIFY, carrying the token's SHA-256 only.
    @Test func anEvictionReachesEveryReplica() async throws {
        let schema = "e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let key = RegistryKeyring.generateKeyMaterial()
        let shared: @Sendable (inout TollgateConfig) -> Void = { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.registry.enabled = true
            config.registry.store = .postgres
            config.registry.postgres.url = Secret(ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"] ?? "")
            config.registry.postgres.schema = String(schema)
            config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(key))]
        }
        try await withRunningTollgate(clock: ManualClock(running: true), configured: { shared(&$0) }) { first in
            let second = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
                shared(&config)
                config.inbound.issuers = [
                    IssuerConfig(
                        name: "dev", issuer: first.base + "/dev-issuer",
                        introspection: IntrospectionConfig(
                            clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret"))
                ]
            }
            defer { Task { await second.stop() } }
            let token = try await first.token()
            let bearer = [("Authorization", "Bearer " + token)]
            #expect(try await first.get("/auth", headers: bearer).status == 200)
            #expect(try await second.get("/auth", headers: bearer).status == 200)
            try await #require(first.app.devIssuer).revoke(token)
            #expect(try await second.get("/auth", headers: bearer).status == 200, "cached at the second replica")

            let evicted = try await first.post("/admin/cache/evict", json: #"{"token":"\#(token)"}"#, headers: apiKeyHeader)
            #expect(evicted.status == 200 && evicted.json["replicas_notified"] as? Bool == true)
            try await waitUntil { try await second.get("/auth", headers: bearer).status == 401 }
            #expect(try await first.get("/auth", headers: bearer).status == 401)
        }
    }

    /// A DPoP proof is single-use across replicas: the `jti` one accepted is a replay at the other.
    @Test func aDPoPProofAcceptedByOneReplicaIsAReplayAtTheOther() async throws {
        let schema = "d_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let key = RegistryKeyring.generateKeyMaterial()
        let shared: @Sendable (inout TollgateConfig) -> Void = { config in
            config.registry.enabled = true
            config.registry.store = .postgres
            config.registry.postgres.url = Secret(ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"] ?? "")
            config.registry.postgres.schema = String(schema)
            config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(key))]
        }
        let forge = TokenForge()
        let first = try await JWTTests.start(forge) { shared(&$0) }
        defer { Task { await first.stop() } }
        let issuerURL = first.app.devIssuer!.issuerURL
        let second = try await RunningTollgate.start { config in
            shared(&config)
            var issuer = IssuerConfig(name: "dev", issuer: issuerURL, embedded: false, mode: .jwt, introspection: nil)
            issuer.requireTyp = "at+jwt"
            issuer.audiences = ["tollgate"]
            config.inbound.issuers = [issuer]
        }
        defer { Task { await second.stop() } }
        // The second replica discovers the first's dev issuer in the background, then loads its keys.
        let keys = try #require(second.app.authenticator.issuers[0].jwks)
        try await waitUntil(seconds: 30) { if case .loaded = await keys.refresh() { true } else { false } }
        let client = DPoPTests.Client()
        let bound = forge.valid(issuer: issuerURL, now: first.clock.now(), claims: ["cnf": ["jkt": client.thumbprint]])
        let headers = DPoPTests.dpop(bound, [client.proof(token: bound, iat: first.clock.now())])
        #expect(try await second.get("/auth", headers: DPoPTests.dpop(bound, [client.proof(token: bound, iat: first.clock.now())])).status == 200)
        #expect(try await first.get("/auth", headers: headers).status == 200)
        let replayed = try await second.get("/auth", headers: headers)
        #expect(replayed.status == 401 && replayed.header("WWW-Authenticate")?.contains("invalid_dpop_proof") == true, "\(replayed.status)")
    }
}
