import AsyncHTTPClient
import Foundation
import Logging
import Testing
import TollgateConfiguration
import TollgateKit
@testable import TollgateRegistry

/// The one compare-and-swap every registry write goes through, on the in-memory store and a
/// manual clock: no IdP, no socket.
@Suite("registry row mutation")
struct RowMutationTests {
    static func withConnections(_ test: (RuntimeConnections, ManualClock) async throws -> Void) async throws {
        var config = RegistryConfig()
        config.enabled = true
        config.store = .memory
        config.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(RegistryKeyring.generateKeyMaterial()))]
        let registry = try await ConnectionRegistry.open(config: config, logger: Logger(label: "test"))
        let clock = ManualClock(1_000)
        let connections = RuntimeConnections(registry: registry, config: config, reservedNames: [], http: HTTPClient.shared, clock: clock)
        try await test(connections, clock)
        await registry.close()
    }

    static func created(_ connections: RuntimeConnections, _ name: String = "pacs") async throws -> ConnectionRecord {
        var input = ConnectionInput()
        input.connectionName = name
        input.oauthFlowType = "client_credentials"
        input.clientID = "svc"
        input.clientSecret = "s3cret"
        input.tokenURL = "https://idp.example/token"
        return try await connections.catalog.create(organization: "GLOBAL", input: input).record
    }

    static func change(_ edit: (inout ConnectionInput) -> Void) -> ConnectionInput {
        var input = ConnectionInput()
        edit(&input)
        return input
    }

    @Test func aWriteMovesTheGenerationOnAndStampsTheTime() async throws {
        try await Self.withConnections { connections, clock in
            let record = try await Self.created(connections)
            clock.advance(by: 5)
            let outcome = try await connections.catalog.mutate(record) { $0.statusMessage = "checked" }
            let written = try #require(outcome.written)
            #expect(written.generation == record.generation + 1)
            #expect(written.updatedAt == 1_005)
            let stored = try #require(try await connections.registry.store.find(id: record.id))
            #expect(stored.generation == written.generation)
            #expect(stored.statusMessage == "checked")
        }
    }

    @Test func aLostRaceLeavesTheNewerRowAndSaysWhatItIs() async throws {
        try await Self.withConnections { connections, _ in
            let record = try await Self.created(connections)
            _ = try #require(try await connections.catalog.mutate(record) { $0.statusMessage = "first" }.written)
            let stale = try await connections.catalog.mutate(record) { $0.statusMessage = "second" }
            guard case .lost(let current?) = stale else {
                Issue.record("a write from a stale generation must be lost, was \(stale)")
                return
            }
            #expect(current.statusMessage == "first")
            #expect(try await connections.registry.store.find(id: record.id)?.statusMessage == "first")
        }
    }

    @Test func retryingOverAnotherWriteAppliesTheChangeToTheRowAsItNowIs() async throws {
        try await Self.withConnections { connections, _ in
            let record = try await Self.created(connections)
            _ = try await connections.catalog.mutate(record) { $0.status = .testing }
            var seen: [Int] = []
            let outcome = try await connections.catalog.mutate(
                record,
                retryOver: { now in
                    seen.append(now.generation)
                    return now.status == .testing
                }
            ) { $0.statusMessage = "kept" }
            let written = try #require(outcome.written)
            #expect(seen == [record.generation + 1])
            #expect(written.status == .testing)
            #expect(written.statusMessage == "kept")
            #expect(written.generation == record.generation + 2)
        }
    }

    @Test func aDeletedRowIsLostWithNothingCurrent() async throws {
        try await Self.withConnections { connections, _ in
            let record = try await Self.created(connections)
            try await connections.catalog.delete(organization: "GLOBAL", name: "pacs")
            let outcome = try await connections.catalog.mutate(record, retryOver: { _ in true }) { $0.statusMessage = "late" }
            guard case .lost(nil) = outcome else {
                Issue.record("a deleted row must be lost with nothing current, was \(outcome)")
                return
            }
        }
    }

    @Test func aFailureIsWrittenOverAStatusChangeButNotOverNewCredentials() async throws {
        try await Self.withConnections { connections, _ in
            let record = try await Self.created(connections)
            _ = try await connections.catalog.mutate(record) { $0.status = .testing }
            #expect(try await connections.tokens.markFailed(record, message: "refused", dropRefreshToken: false))
            #expect(try await connections.registry.store.find(id: record.id)?.status == .failed)

            let other = try await Self.created(connections, "archive")
            _ = try await connections.catalog.update(
                organization: "GLOBAL", name: "archive", ifMatch: nil, input: Self.change { $0.clientSecret = "a-new-secret" })
            #expect(try await !connections.tokens.markFailed(other, message: "refused", dropRefreshToken: false))
            #expect(try await connections.registry.store.find(id: other.id)?.status == .notConnected)
        }
    }

    @Test func aStaleIfMatchIsRefusedBeforeAnythingIsWritten() async throws {
        try await Self.withConnections { connections, _ in
            let record = try await Self.created(connections)
            await #expect(throws: RegistryError.self) {
                _ = try await connections.catalog.update(
                    organization: "GLOBAL", name: "pacs", ifMatch: "\"\(record.generation + 7)\"", input: Self.change { $0.description = "x" })
            }
            #expect(try await connections.registry.store.find(id: record.id)?.generation == record.generation)
        }
    }
}
