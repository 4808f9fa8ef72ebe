import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
import TollgateConfiguration
import TollgateKit

/// The bodies the real plugin (Orthanc 1.12.10, orthanc-authorization 0.11.4) sent Tollgate in the
/// end-to-end run, recorded in `Tests/fixtures/orthanc-authorization/plugin-requests.json`, replayed
/// here in order against the same roles, each answer checked against what the plugin needed.
@Suite("Orthanc plugin's recorded requests")
struct OrthancPluginFixtureTests {
    typealias H = OrthancPluginHarness

    /// Tests/e2e/orthanc_plugin.py's ROLES: a role per Glewlwyd scope.
    static let roles = #"""
        {"roles": {
          "dicom.read": {"permissions": ["view", "download"], "authorized-labels": ["*"]},
          "dicom.write": {"permissions": ["view", "download", "upload", "share", "edit-labels"], "authorized-labels": ["*"]},
          "orthanc.delete": {"permissions": ["view", "delete"], "authorized-labels": ["*"]},
          "orthanc.admin": {"permissions": ["admin-permissions"], "authorized-labels": ["*"]},
          "ward.a": {"permissions": ["view"], "authorized-labels": ["ward-a"]}},
         "available-labels": []}
        """#
    static let scopes = ["reader": "dicom.read", "writer": "dicom.read dicom.write", "deleter": "orthanc.delete", "admin": "orthanc.admin", "ward": "ward.a"]

    @Test func everyRecordedRequestGetsTheAnswerThePluginNeeded() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/orthanc-authorization/plugin-requests.json")
        let requests = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])?["requests"] as? [[String: Any]])
        #expect(requests.count >= 15)
        let rolesFile = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-roles-\(UUID().uuidString).json").path
        try Data(Self.roles.utf8).write(to: URL(fileURLWithPath: rolesFile))
        defer { try? FileManager.default.removeItem(atPath: rolesFile) }
        let forge = TokenForge()
        let tg = try await H.start(forge) { config in
            config.orthanc.permissions = OrthancPermissionsConfig(roleClaims: ["scope"], roles: nil)
            config.orthanc.permissions?.rolesFile = rolesFile
        }
        defer { Task { await tg.stop() } }
        var values: [String: String] = [
            "<orthanc-id:A>": "0a0a0a0a-0a0a0a0a-0a0a0a0a-0a0a0a0a-0a0a0a0a", "<dicom-uid:A>": "1.2.826.0.1.3680043.10.777.1",
            "<orthanc-id:B>": "0b0b0b0b-0b0b0b0b-0b0b0b0b-0b0b0b0b-0b0b0b0b", "<dicom-uid:B>": "1.2.826.0.1.3680043.10.777.2",
        ]
        for (kind, scope) in Self.scopes {
            values["<token:\(kind)>"] = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now(), claims: ["scope": scope, "sub": kind])
        }
        func substitute(_ value: Any) -> Any {
            switch value {
            case let text as String: values.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            case let list as [Any]: list.map(substitute)
            case let object as [String: Any]: object.mapValues(substitute)
            default: value
            }
        }
        for entry in requests {
            let method = entry["method"] as? String ?? "", path = entry["path"] as? String ?? ""
            let expect = entry["expect"] as? [String: Any] ?? [:]
            let label = "\(method) \(path) \(entry["body"].map { "\($0)" } ?? "")"
            let body = (entry["body"] as? [String: Any]).map { try? JSONSerialization.data(withJSONObject: substitute($0)) } ?? nil
            let answer = try await tg.send(
                path, method: method == "PUT" ? .PUT : method == "GET" ? .GET : .POST, headers: H.headers, body: body.map(Array.init))
            #expect(answer.status == UInt(expect["status"] as? Int ?? 200), "\(label): \(answer.status) \(answer.body)")
            if let permissions = expect["permissions"] as? [String] {
                #expect(Set(answer.json["permissions"] as? [String] ?? ["missing"]) == Set(permissions), "\(label): \(answer.body)")
                #expect(answer.json["validity"] is Int && answer.json["name"] is String && answer.json["authorized-labels"] is [String])
            }
            if let granted = expect["granted"] as? Bool {
                #expect(answer.json["granted"] as? Bool == granted, "\(label): \(answer.body)")
                #expect(answer.json["validity"] is Int)
            }
            if expect["creates"] as? String == "share" {
                values["<token:share>"] = try #require(answer.json["token"] as? String, "\(label): \(answer.body)")
            }
            if let type = expect["token-type"] as? String {
                #expect(answer.json["token-type"] as? String == type)
                let resources = answer.json["resources"] as? [[String: Any]]
                #expect(resources?.first?["dicom-uid"] as? String == values[expect["resource"] as? String ?? ""], "\(label): \(answer.body)")
            }
            if let roles = expect["roles"] as? [String] {
                #expect(Set((answer.json["roles"] as? [String: Any])?.keys.map { $0 } ?? []) == Set(roles), "\(label): \(answer.body)")
            }
        }
        #expect(!tg.logs.text.contains(values["<token:share>"] ?? "unset"), "the share token is answered, never logged")
    }
}
