import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
import TollgateConfiguration
import TollgateKit

/// `POST /orthanc/authorize`, the 1.10 filter's route: the plugin's decision made by Tollgate.
@Suite("Orthanc 1.10 filter decisions")
struct OrthancFilterDecisionTests {
    typealias H = OrthancPluginHarness
    static let id = "6b9e19d9-62094390-5f9ddb01-4a191ae7-9766b715"

    /// A URI for entries of the plugin's default `Permissions` table (orthanc-authorization 0.11.4),
    /// the routes the review found drifted included, and Tollgate's additions. `""`: no permission needed.
    static let table: [(method: String, uri: String, needs: String)] = [
        ("post", "/auth/tokens/decode", ""),
        ("post", "/tools/lookup", ""),
        ("get", "/tools/generate-uid?level=study", ""),
        ("post", "/tools/find", "all|view"),
        ("post", "/tools/count-resources", "all|view"),
        ("get", "/studies", "all|view"),
        ("get", "/studies/\(id)", "all|view"),
        ("get", "/patients/\(id)/studies", "all|view"),
        ("get", "/instances/\(id)/tags", "all|view"),
        ("get", "/studies/\(id)/archive", "all|view"),
        ("get", "/instances/\(id)/file", "all|view"),
        ("get", "/statistics", "all|view"),
        ("get", "/tools/metrics-prometheus", "all|view"),
        ("get", "/system", "all|view"),
        ("get", "/worklists", "all|view|worklists"),
        ("get", "/worklists/\(id)", "all|view|worklists"),
        ("post", "/worklists/create", "all|worklists"),
        ("delete", "/worklists/\(id)", "all|worklists"),
        ("put", "/auth/tokens/viewer-instant-link", "all|view"),
        ("put", "/auth/tokens/download-instant-link", "all|download"),
        ("put", "/auth/tokens/stone-viewer-publication", "all|share"),
        ("post", "/instances", "all|upload"),
        ("post", "/tools/create-dicom", "all|upload"),
        ("get", "/jobs/\(id)", "all|send|modify|anonymize|q-r-remote-modalities|admin-permissions"),
        ("post", "/peers/pacs/store", "all|send"),
        ("post", "/modalities/pacs/store-straight", "all|send"),
        ("get", "/modalities", "all|send|q-r-remote-modalities"),
        ("get", "/peers/pacs/configuration", "all|send|q-r-remote-modalities"),
        ("post", "/modalities/pacs/echo", "all|send|q-r-remote-modalities"),
        ("post", "/modalities/pacs/query", "all|q-r-remote-modalities"),
        ("get", "/queries/\(id)/answers", "all|q-r-remote-modalities"),
        ("post", "/modalities/pacs/move", "all|q-r-remote-modalities"),
        ("get", "/dicom-web/servers", "all|send|q-r-remote-modalities"),
        ("post", "/dicom-web/servers/b/qido", "all|q-r-remote-modalities"),
        ("post", "/dicom-web/servers/b/stow", "all|send"),
        ("post", "/studies/\(id)/modify", "all|modify"),
        ("post", "/studies/\(id)/merge", "all|modify"),
        ("post", "/series/\(id)/anonymize", "all|anonymize"),
        ("post", "/tools/bulk-modify", "all|modify"),
        ("post", "/tools/bulk-anonymize", "all|anonymize"),
        ("delete", "/studies/\(id)", "all|delete"),
        ("post", "/tools/bulk-delete", "all|delete"),
        ("put", "/tools/log-level", "all|settings"),
        ("get", "/tools/log-level", "all|settings"),
        ("get", "/tools/labels", "all|view|edit-labels"),
        ("put", "/studies/\(id)/labels/teaching", "all|edit-labels"),
        ("get", "/jobs", "admin-permissions"),
        ("post", "/jobs/\(id)/cancel", "admin-permissions"),
        ("delete", "/jobs/\(id)", "admin-permissions"),
        ("put", "/modalities/pacs", "admin-permissions"),
        ("delete", "/modalities/pacs", "admin-permissions"),
        ("put", "/auth/settings/roles", "admin-permissions"),
        ("get", "/auth/settings/permissions", "admin-permissions"),
        ("get", "/auth/audit-logs", "admin-permissions|audit-logs"),
        ("get", "/dicom-web/studies", "all|view"),
        ("get", "/dicom-web/studies/1.2.3/series", "all|view"),
        ("get", "/dicom-web/studies/1.2.3/series/4.5.6/instances/7.8.9/frames/1", "all|view"),
        ("post", "/dicom-web/studies", "all|upload"),
        ("post", "/dicom-web/studies/1.2.3", "all|upload"),
        // Tollgate's additions for a 1.10 Orthanc
        ("get", "/wado", "all|view"),
        ("get", "/tools/now", "all|view"),
        ("put", "/dicom-web/servers/b", "admin-permissions"),
        ("delete", "/dicom-web/servers/b", "admin-permissions"),
        ("post", "/dicom-web/servers/b/get", "all|q-r-remote-modalities"),
        ("post", "/queries/\(id)/retrieve", "all|q-r-remote-modalities"),
    ]

    /// The 1.10 filter's table is the plugin's 0.11.4 default, row for row, then Tollgate's additions.
    @Test func theDefaultTableIsThePluginsPlusTollgatesAdditions() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/orthanc-authorization/default-permissions-0.11.4.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        let plugin = try #require(document["permissions"] as? [[String]])
        #expect(plugin.count == 64)
        #expect(PermissionTable.pluginDefaultRules == plugin, "PermissionTable.pluginDefaultRules drifted from the plugin's 0.11.4 table")
        #expect(PermissionTable.defaultRules == plugin + PermissionTable.tollgateAdditions)
        // Additions never shadow a plugin rule: each addition's own example URI matches no plugin rule.
        let pluginOnly = try PermissionTable(rules: plugin, dicomWebRoot: "/dicom-web/")
        for (method, uri) in [
            ("get", "/wado"), ("get", "/tools/now"), ("put", "/dicom-web/servers/b"), ("delete", "/dicom-web/servers/b"),
            ("post", "/dicom-web/servers/b/get"), ("post", "/queries/\(Self.id)/retrieve"),
        ] {
            #expect(pluginOnly.required(method: method, uri: uri) == nil, "\(method) \(uri)")
        }
    }

    @Test func everyTableEntryPassesTheRightRoleAndNoOther() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge) { $0.orthanc.permissions?.anonymous.permissions = [] }
        defer { Task { await tg.stop() } }
        var tokens: [String: String] = [:]
        for permission in OrthancPermission.all { tokens[permission] = H.user(forge, tg, roles: ["p-\(permission)"]) }
        for entry in Self.table {
            let needed = entry.needs.split(separator: "|").map(String.init)
            for permission in OrthancPermission.all {
                let answer = try await H.authorize(tg, entry.method, entry.uri, tokens: ["Bearer " + tokens[permission]!])
                #expect(answer.status == 200)
                let expected = needed.isEmpty || needed.contains(permission)
                #expect(answer.json["granted"] as? Bool == expected, "\(entry.method) \(entry.uri) with \(permission): \(answer.body)")
            }
            let anonymous = try await H.authorize(tg, entry.method, entry.uri, tokens: [])
            #expect(anonymous.json["granted"] as? Bool == needed.isEmpty, "\(entry.method) \(entry.uri) anonymously")
        }
        #expect(
            try await H.authorize(tg, "get", "/tools/unknown-route", tokens: ["Bearer " + tokens["all"]!]).json["granted"] as? Bool == false,
            "a route in no rule is a system-level resource: only a resource token could open it")
    }

    @Test func readersReadUploadersUploadAnonymousGetsItsProfile() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let viewer = "Bearer " + H.user(forge, tg, roles: ["p-view"])
        #expect(try await H.authorize(tg, "get", "/dicom-web/studies", tokens: [viewer], get: ["PatientID": "X"]).json["granted"] as? Bool == true)
        #expect(try await H.authorize(tg, "post", "/dicom-web/studies", tokens: [viewer]).json["granted"] as? Bool == false)
        #expect(try await H.authorize(tg, "post", "/instances", tokens: []).json["granted"] as? Bool == true, "anonymous profile holds upload")
        #expect(try await H.authorize(tg, "get", "/dicom-web/studies", tokens: []).json["granted"] as? Bool == false)
        let garbage = try await H.authorize(tg, "get", "/dicom-web/studies", tokens: ["Bearer garbage"])
        #expect(garbage.json["granted"] as? Bool == false)
        #expect((0...60).contains(garbage.json["validity"] as? Int ?? -1))
    }

    @Test func labelsLimitWhatAProfileSees() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let external = "Bearer " + H.user(forge, tg, roles: ["external"])
        #expect(try await H.authorize(tg, "get", "/studies/\(Self.id)", tokens: [external], labels: ["public"]).json["granted"] as? Bool == true)
        #expect(try await H.authorize(tg, "get", "/studies/\(Self.id)", tokens: [external], labels: ["secret"]).json["granted"] as? Bool == false)
        #expect(try await H.authorize(tg, "get", "/studies/\(Self.id)", tokens: [external], labels: []).json["granted"] as? Bool == false)
    }

    @Test func aShareLinkOpensItsStudyAndNothingElse() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let created = try await H.share(tg, type: "viewer-instant-link", study: (uid: "1.2.3", id: Self.id), serverID: nil)
        let token = try #require(created.json["token"] as? String)
        func granted(_ method: String, _ uri: String, get: [String: String] = [:], resources: [[String: Any]] = []) async throws -> Bool? {
            try await H.authorize(tg, method, uri, tokens: [token], get: get, resources: resources).json["granted"] as? Bool
        }
        #expect(try await granted("get", "/dicom-web/studies/1.2.3/series") == true)
        #expect(try await granted("get", "/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1") == true)
        #expect(try await granted("get", "/dicom-web/studies", get: ["StudyInstanceUID": "1.2.3"]) == true)
        #expect(try await granted("get", "/dicom-web/studies", get: ["StudyInstanceUID": "1.2.*"]) == false)
        #expect(try await granted("get", "/dicom-web/studies/1.2.4") == false)
        #expect(try await granted("get", "/dicom-web/studies") == false)
        #expect(try await granted("get", "/studies/\(Self.id)") == true)
        #expect(try await granted("delete", "/studies/\(Self.id)") == false)
        #expect(try await granted("post", "/dicom-web/studies/1.2.3") == false)
        // The filter resolves a series to its parent study.
        let series = "0a1b2c3d-62094390-5f9ddb01-4a191ae7-00000000"
        #expect(try await granted("get", "/series/\(series)/archive") == false)
        #expect(try await granted("get", "/series/\(series)/archive", resources: [["level": "study", "orthanc-id": Self.id, "dicom-uid": "1.2.3"]]) == true)
        #expect(!tg.logs.text.contains(token))
    }

    /// A valid token refused by the route is a denial everywhere: the answer, the access line
    /// (with the resource and whose profile), and tollgate_decisions_total.
    @Test func denialsAreCountedAndLoggedAsDenials() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let viewer = "Bearer " + H.user(forge, tg, roles: ["p-view"], claims: ["sub": "viewer-1"])
        func series(_ result: String, _ reason: String) async throws -> Double {
            let text = try await tg.get("/metrics").body
            return text.split(separator: "\n").filter {
                $0.hasPrefix("tollgate_decisions_total{") && $0.contains(#"result="\#(result)""#)
                    && $0.contains(#"reason="\#(reason)""#)
            }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        }
        let allowedBefore = try await series("allowed", "ok")
        let denied = try await tg.send(
            "/orthanc/authorize", method: .POST, headers: H.headers + [("X-Request-Id", "orthanc-denied")],
            body: Array(try JSONSerialization.data(withJSONObject: ["method": "delete", "uri": "/studies/\(Self.id)", "tokens": [viewer]])))
        #expect(denied.json["granted"] as? Bool == false)
        let granted = try await tg.send(
            "/orthanc/authorize", method: .POST, headers: H.headers + [("X-Request-Id", "orthanc-granted")],
            body: Array(try JSONSerialization.data(withJSONObject: ["method": "get", "uri": "/studies/\(Self.id)", "tokens": [viewer]])))
        #expect(granted.json["granted"] as? Bool == true)
        #expect(try await series("denied", "permission") == 1)
        #expect(try await series("allowed", "ok") == allowedBefore + 1, "the token's own validity is not counted as an allowed route")
        let lines = tg.logs.text.split(separator: "\n")
        let deniedLine = try #require(lines.first { $0.contains("info request ") && $0.contains("orthanc-denied") })
        for field in [
            #""reason": permission"#, #""orthanc_method": delete"#, #""orthanc_level": study"#, #""orthanc_resource": \#(Self.id)"#,
            #""orthanc_user": viewer-1"#,
        ] {
            #expect(deniedLine.contains(field), "\(field) in \(deniedLine)")
        }
        let grantedLine = try #require(lines.first { $0.contains("info request ") && $0.contains("orthanc-granted") })
        #expect(grantedLine.contains(#""reason": ok"#) && grantedLine.contains(#""orthanc_permission": view"#), "\(grantedLine)")
        #expect(!tg.logs.text.contains(viewer.dropFirst(7)))
    }
}
