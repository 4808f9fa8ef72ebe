import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
import TollgateConfiguration
import TollgateKit
import TollgateRegistry

/// Two Tollgates sharing one PostgreSQL registry and one share key, as two pods behind one Service:
/// each honours the other's share links, a roles change saved at one is served by the other, and a
/// user seen at one is known to the other's `user-id` lookups.
@Suite("Orthanc routes on replicas", .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"] != nil))
struct OrthancReplicasTests {
    typealias H = OrthancPluginHarness

    @Test func replicasShareLinksRolesAndUsers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orthanc-replicas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("share.key").path
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: key))
        let schema = "o_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let registryKey = RegistryKeyConfig(id: "k1", key: Secret(RegistryKeyring.generateKeyMaterial()))
        let forge = TokenForge()
        func replica(_ name: String) async throws -> RunningTollgate {
            let roles = directory.appendingPathComponent("roles-\(name).json").path
            try Data(#"{"roles":{"doctor":{"permissions":["view"],"authorized-labels":["*"]}},"available-labels":[]}"#.utf8)
                .write(to: URL(fileURLWithPath: roles))
            return try await H.start(forge) { config in
                config.orthanc.permissions?.roles = nil
                config.orthanc.permissions?.rolesFile = roles
                config.orthanc.shareTokens.keyFile = key
                config.registry.enabled = true
                config.registry.store = .postgres
                config.registry.postgres.url = Secret(ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"] ?? "")
                config.registry.postgres.schema = String(schema)
                config.registry.encryption.keys = [registryKey]
            }
        }
        let a = try await replica("a")
        defer { Task { await a.stop() } }
        let b = try await replica("b")
        defer { Task { await b.stop() } }

        // A link made at A opens its study at B.
        let study = (uid: "1.2.826.0.1.3680043.10.99.1", id: "6b9e19d9-62094390-5f9ddb01-4a191ae7-9766b715")
        let link = try #require(try await H.share(a, type: "viewer-instant-link", study: study, serverID: "orthanc-a").json["token"] as? String)
        let validated = try await H.call(
            b, "/tokens/validate",
            [
                "method": "get", "level": "study", "orthanc-id": study.id, "dicom-uid": study.uid,
                "token-key": "token", "token-value": link, "server-id": "orthanc-a",
            ])
        #expect(validated.json["granted"] as? Bool == true)

        // Roles saved at A (OE2's page, through A's plugin) are served by B.
        let saved = try await H.call(
            a, "/settings/roles",
            [
                "roles": ["doctor": ["permissions": ["view", "upload"], "authorized-labels": ["*"]]],
                "available-labels": ["teaching"], "server-id": "orthanc-a",
            ], method: .PUT)
        #expect(saved.status == 200)
        let doctorAtB = H.user(forge, b, roles: ["doctor"])
        try await waitUntil(seconds: 20) {
            try await H.call(b, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + doctorAtB, "server-id": nil])
                .json["permissions"] as? [String] == ["view", "upload"]
        }
        #expect(b.app.orthancProfiles.roles.availableLabels == ["teaching"])

        // A user seen at A is known to B's audit-log lookups.
        let nurse = H.user(forge, a, roles: ["doctor"], claims: ["sub": "nurse-7", "name": "Nurse Seven"])
        _ = try await H.call(a, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + nurse, "server-id": nil])
        try await waitUntil(seconds: 20) {
            try await H.call(b, "/user/get-profile", ["user-id": "nurse-7", "server-id": nil]).json["name"] as? String == "Nurse Seven"
        }
        #expect(try await H.call(b, "/user/get-profile", ["user-id": "nobody", "server-id": nil]).body == "null")
    }
}
