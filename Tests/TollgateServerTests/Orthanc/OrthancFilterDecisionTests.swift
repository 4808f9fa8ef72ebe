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

    /// Every entry of the plugin's default `Permissions` table (orthanc-authorization
    /// DefaultConfiguration.json) with a URI it matches, plus the entries only newer plugins and
    /// Tollgate's 1.10 table add. `""`: no permission needed.
    static let table: [(method: String, uri: String, needs: String)] = [
        ("post", "/auth/tokens/decode", ""),
        ("post", "/tools/lookup", ""),
        ("post", "/tools/find", "all|view"),
        ("get", "/studies/\(id)", "all|view"),
        ("get", "/patients/\(id)/studies", "all|view"),
        ("get", "/instances/\(id)/tags", "all|view"),
        ("get", "/statistics", "all|view"),
        ("put", "/auth/tokens/viewer-instant-link", "all|view"),
        ("put", "/auth/tokens/download-instant-link", "all|download"),
        ("put", "/auth/tokens/stone-viewer-publication", "all|share"),
        ("post", "/instances", "all|upload"),
        ("get", "/jobs/\(id)", "all|send|modify|anonymize|q-r-remote-modalities"),
        ("post", "/peers/pacs/store", "all|send"),
        ("get", "/modalities", "all|send|q-r-remote-modalities"),
        ("post", "/modalities/pacs/echo", "all|send|q-r-remote-modalities"),
        ("post", "/modalities/pacs/query", "all|q-r-remote-modalities"),
        ("get", "/queries/\(id)/answers", "all|q-r-remote-modalities"),
        ("post", "/modalities/pacs/move", "all|q-r-remote-modalities"),
        ("get", "/dicom-web/servers", "all|send|q-r-remote-modalities"),
        ("post", "/dicom-web/servers/b/stow", "all|send"),
        ("post", "/studies/\(id)/modify", "all|modify"),
        ("post", "/series/\(id)/anonymize", "all|anonymize"),
        ("delete", "/studies/\(id)", "all|delete"),
        ("post", "/tools/bulk-delete", "all|delete"),
        ("put", "/tools/log-level", "all|settings"),
        ("get", "/tools/log-level", "all|settings"),
        // newer plugins: labels, worklists, the plugin's administration
        ("put", "/studies/\(id)/labels/teaching", "all|edit-labels"),
        ("get", "/worklists", "all|worklists"),
        ("get", "/jobs", "admin-permissions"),
        ("post", "/jobs/\(id)/cancel", "admin-permissions"),
        ("delete", "/jobs/\(id)", "admin-permissions"),
        ("put", "/modalities/pacs", "admin-permissions"),
        ("delete", "/modalities/pacs", "admin-permissions"),
        ("put", "/auth/settings/roles", "admin-permissions"),
        ("put", "/dicom-web/servers/b", "admin-permissions"),
        ("get", "/auth/audit-logs", "admin-permissions|audit-logs"),
        // 1.10 without the plugin: DICOMweb reads and STOW
        ("get", "/dicom-web/studies", "all|view"),
        ("get", "/dicom-web/studies/1.2.3/series/4.5.6/instances/7.8.9/frames/1", "all|view"),
        ("post", "/dicom-web/studies", "all|upload"),
        ("get", "/studies/\(id)/archive", "all|download"),
    ]

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
        #expect(try await H.authorize(tg, "get", "/tools/unknown-route", tokens: ["Bearer " + tokens["all"]!]).json["granted"] as? Bool == false,
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
}
