import AsyncHTTPClient
import Foundation
import Logging
import Testing
@testable import TollgateRegistry
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
        return (opened, {
            for replica in opened { await replica.registry.close() }
            try? await http.shutdown()
        })
    }

    @Test func oneRefreshPerGenerationAcrossReplicasAndALapsedLeaseIsTakenOver() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let (replicas, close) = try await Self.replicas(3, leaseSeconds: 5)
        defer { Task { await close() } }
        _ = try await replicas[0].create(organization: "GLOBAL", body: Data(ConnectionFlowsTests.refreshBody(idp, refreshToken: idp.mintRefreshToken()).utf8))
        let before = try await replicas[1].get(organization: "GLOBAL", name: "archive").record.generation

        // 50 forced refreshes at once, spread over the replicas; the IdP is slow, so they overlap.
        idp.setRefreshDelay(milliseconds: 40)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask { (try? await replicas[index % 3].credentials(organization: "GLOBAL", name: "archive", force: true)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0 }, "\(outcomes.filter { !$0 }.count) of 50 failed")
        #expect(idp.invalidGrants == 0, "no refresh token was presented twice")
        let after = try await replicas[2].get(organization: "GLOBAL", name: "archive").record.generation
        #expect(idp.grants("refresh_token") == after - before, "exactly one refresh per generation")
        #expect(idp.liveRefreshTokens.count == 1)

        // A replica died holding the lease (as after kill -9): another waits for it to lapse, then refreshes.
        idp.setRefreshDelay(milliseconds: 0)
        let record = try await replicas[0].get(organization: "GLOBAL", name: "archive").record
        let lapses = SystemClock().now() + 2
        #expect(try await replicas[0].registry.store.acquireLease(id: record.id, owner: "killed-replica", until: lapses, now: SystemClock().now()))
        let asked = idp.grants("refresh_token")
        _ = try await replicas[1].credentials(organization: "GLOBAL", name: "archive", force: true)
        #expect(SystemClock().now() >= lapses, "no refresh while the dead replica's lease ran")
        #expect(idp.grants("refresh_token") == asked + 1 && idp.invalidGrants == 0)

        // Consent withdrawn at the IdP: one replica learns it, every replica answers without asking again.
        idp.revokeConsent()
        await #expect(throws: RegistryError(.reauthorizationRequired, "the IdP refused archive's refresh token: authorize again or import a new one")) {
            _ = try await replicas[2].credentials(organization: "GLOBAL", name: "archive", force: true)
        }
        let refusedAt = idp.grants("refresh_token")
        for replica in replicas {
            await #expect(throws: RegistryError.self) { _ = try await replica.credentials(organization: "GLOBAL", name: "archive", minTTL: 0) }
        }
        #expect(idp.grants("refresh_token") == refusedAt, "no retry storm")
        #expect(try await replicas[0].get(organization: "GLOBAL", name: "archive").record.status == .failed)
    }
}
