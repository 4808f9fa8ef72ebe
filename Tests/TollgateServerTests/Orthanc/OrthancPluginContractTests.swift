import Foundation
import NIOHTTP1
import Testing
@testable import TollgateServer
@testable import TollgateInbound
import TollgateConfiguration
import TollgateKit

/// The web-service protocol as orthanc-authorization's `AuthorizationWebService.cpp` speaks it:
/// request bodies are the JSON the plugin builds, answers are what it parses.
@Suite("Orthanc authorization plugin contract")
struct OrthancPluginContractTests {
    typealias H = OrthancPluginHarness
    static let study = (uid: "1.2.840.113619.2.1.1", id: "6b9e19d9-62094390-5f9ddb01-4a191ae7-9766b715")
    static let otherStudy = (uid: "1.2.840.113619.2.9.9", id: "0a1b2c3d-62094390-5f9ddb01-4a191ae7-00000000")

    @Test func everyRouteNeedsTheWebServiceCredentials() async throws {
        let forge = TokenForge()
        let closed = try await JWTTests.start(forge)
        defer { Task { await closed.stop() } }
        let routes: [(HTTPMethod, String)] = [
            (.POST, "/tokens/validate"), (.POST, "/user/get-profile"), (.POST, "/tokens/decode"),
            (.PUT, "/tokens/viewer-instant-link"), (.GET, "/settings/roles"), (.PUT, "/settings/roles"),
            (.POST, "/orthanc/authorize"),
        ]
        for (method, path) in routes {
            let answer = try await closed.send(path, method: method, headers: H.headers, body: Array("{}".utf8))
            #expect(answer.status == 401, "\(path) is closed without configured credentials")
            #expect((answer.json["error"] as? String)?.contains("webservice_username") == true)
        }
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let body = Array(#"{"token-key":"","token-value":"","server-id":null}"#.utf8)
        let bearer = try await tg.post("/user/get-profile", body: body, headers: [("Authorization", "Bearer " + H.user(forge, tg, roles: ["doctor"]))])
        #expect(bearer.status == 401, "only one side configured: the plugin forwards the user's Bearer header, which is refused")
        #expect(bearer.header("WWW-Authenticate")?.hasPrefix("Basic") == true)
        let wrong = try await tg.post("/user/get-profile", body: body, headers: [("Authorization", "Basic " + Data("orthanc:nope".utf8).base64EncodedString())])
        #expect(wrong.status == 401)
        #expect(try await tg.post("/user/get-profile", body: body, headers: H.headers).status == 200)

        let open = try await JWTTests.start(forge) { $0.orthanc.auth = .none }
        defer { Task { await open.stop() } }
        #expect(try await open.post("/user/get-profile", body: body).status == 200)
        #expect(open.logs.text.contains("orthanc.auth is none"))
    }

    @Test func profilesComeFromKeycloakRolesNamesAndGroups() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let doctor = H.user(
            forge, tg, roles: ["doctor", "offline_access"],
            claims: ["name": "Dr Ada Lovelace", "preferred_username": "ada", "groups": ["/radiology"]])
        // AuthorizationWebService::GetUserProfile: token-key, token-value (with its scheme), server-id.
        let profile = try await H.call(tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + doctor, "server-id": "orthanc-a"])
        #expect(profile.status == 200)
        #expect(profile.json["name"] as? String == "Dr Ada Lovelace")
        #expect(profile.json["permissions"] as? [String] == ["view", "download", "share"])
        #expect(profile.json["authorized-labels"] as? [String] == ["*"])
        #expect(profile.json["user-id"] as? String == "user-doctor+offline_access")
        #expect(profile.json["groups"] as? [String] == ["/radiology"])
        #expect((1...60).contains(profile.json["validity"] as? Int ?? 0))

        let client = forge.valid(
            issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now(),
            claims: [
                "resource_access": ["orthanc-ui": ["roles": ["external"]], "other-app": ["roles": ["p-all"]]], "preferred_username": "guest",
            ])
        let guest = try await H.call(tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + client, "server-id": nil])
        #expect(guest.json["name"] as? String == "guest")
        #expect(guest.json["permissions"] as? [String] == ["view"], "another client's roles do not count")
        #expect(guest.json["authorized-labels"] as? [String] == ["public"])

        // Anonymous form (plugin ≥ 0.10.0) and a token the IdP does not vouch for: the anonymous profile.
        for body: [String: Any?] in [
            ["token-key": "", "token-value": "", "server-id": nil],
            ["token-key": "Authorization", "token-value": "Bearer garbage", "server-id": nil],
        ] {
            let anonymous = try await H.call(tg, "/user/get-profile", body)
            #expect(anonymous.status == 200)
            #expect(anonymous.json["name"] as? String == "Anonymous")
            #expect(anonymous.json["permissions"] as? [String] == ["upload"])
        }
        let fresh = try await H.call(tg, "/user/get-profile", ["token-key": "", "token-value": "", "server-id": nil])
        #expect(fresh.json["validity"] as? Int == 60)

        // user-id form (audit logs): a user seen before, else null.
        let known = try await H.call(tg, "/user/get-profile", ["user-id": "user-doctor+offline_access", "server-id": nil])
        #expect(known.json["name"] as? String == "Dr Ada Lovelace")
        let unknown = try await H.call(tg, "/user/get-profile", ["user-id": "nobody", "server-id": nil])
        #expect(unknown.status == 200)
        #expect(unknown.body == "null")
        #expect(!tg.logs.text.contains(doctor))
    }

    @Test func validateGrantsShareTokensForTheirResourcesOnly() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge)
        defer { Task { await tg.stop() } }
        let created = try await H.share(tg, study: Self.study)
        #expect(created.status == 200, "\(created.body)")
        let token = try #require(created.json["token"] as? String)
        let url = try #require(created.json["url"] as? String)
        #expect(url == "https://pacs.example.org/orthanc/stone-webviewer/index.html?study=\(Self.study.uid)&selectedStudies=\(Self.study.uid)&token=\(token)")
        #expect((created.json["request"] as? [String: Any])?["type"] as? String == "stone-viewer-publication")

        // AuthorizationWebService::IsGrantedInternal: the body for a study, by both ids.
        func validate(
            _ token: String, method: String = "get", level: String = "study", uid: String? = Self.study.uid, id: String? = Self.study.id,
            server: String? = "orthanc-a", key: String = "token"
        ) async throws -> (Bool?, Int?) {
            var body: [String: Any?] = ["method": method, "level": level, "token-key": key, "token-value": token, "server-id": server]
            if level == "system" { body["uri"] = "/system" } else { body["orthanc-id"] = id; body["dicom-uid"] = uid }
            let answer = try await H.call(tg, "/tokens/validate", body)
            #expect(answer.status == 200)
            return (answer.json["granted"] as? Bool, answer.json["validity"] as? Int)
        }
        let granted = try await validate(token)
        #expect(granted.0 == true)
        #expect((1...60).contains(granted.1 ?? 0))
        #expect(try await validate(token, uid: Self.study.uid, id: nil).0 == true, "DICOMweb: by UID alone")
        #expect(try await validate(token, uid: nil, id: Self.study.id).0 == true, "REST: by Orthanc id alone")
        #expect(try await validate(token, uid: Self.otherStudy.uid, id: Self.otherStudy.id).0 == false)
        #expect(try await validate(token, uid: Self.study.uid, id: Self.otherStudy.id).0 == false, "a mix of ids is no match")
        #expect(try await validate(token, level: "series").0 == false)
        #expect(try await validate(token, level: "system").0 == false)
        #expect(try await validate(token, uid: nil, id: nil).0 == false, "no id: false, as orthanc-auth-service")
        #expect(try await validate(token, server: "orthanc-b").0 == false)
        #expect(try await validate(token, server: nil).0 == false)
        for method in ["post", "put", "delete"] { #expect(try await validate(token, method: method).0 == false, "\(method)") }
        #expect(try await validate("Bearer " + token, key: "Authorization").0 == true)

        // A user's OAuth token is never granted by validate, whatever its roles.
        let admin = H.user(forge, tg, roles: ["p-all", "p-admin-permissions"])
        #expect(try await validate("Bearer " + admin, key: "Authorization") == (false, 60))
        #expect(try await validate("", key: "").0 == false)

        // Forgeries: another key, alg none, a changed payload.
        let parts = token.split(separator: ".").map(String.init)
        let noneHeader = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        for forged in [
            noneHeader + "." + parts[1] + ".", parts[0] + "." + parts[1] + "." + String(parts[2].reversed()),
            parts[0] + "." + parts[1].dropLast(2) + "." + parts[2],
        ] {
            #expect(try await validate(forged).0 == false)
        }
        tg.clock.advance(by: 3601)
        #expect(try await validate(token).0 == false, "expired")
        #expect(!tg.logs.text.contains(token))
    }

    @Test func decodeTellsTypeResourcesRedirectAndErrors() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge) { $0.orthanc.shareTokens.publicLandingRoot = "https://share.example.org/landing/" }
        defer { Task { await tg.stop() } }
        let created = try await H.share(tg, study: Self.study)
        let token = try #require(created.json["token"] as? String)
        #expect(created.json["url"] as? String == "https://share.example.org/landing/?token=\(token)", "publications go through the landing page")
        let decoded = try await H.call(tg, "/tokens/decode", ["token-key": "token", "token-value": token])
        #expect(decoded.json["token-type"] as? String == "stone-viewer-publication")
        #expect(decoded.json["error-code"] == nil)
        #expect((decoded.json["redirect-url"] as? String)?.hasPrefix("https://pacs.example.org/orthanc/stone-webviewer/index.html?study=") == true)
        let resources = decoded.json["resources"] as? [[String: Any]]
        #expect(resources?.first?["dicom-uid"] as? String == Self.study.uid)
        #expect(resources?.first?["orthanc-id"] as? String == Self.study.id)
        #expect(resources?.first?["level"] as? String == "study")

        let user = H.user(forge, tg, roles: ["doctor"])
        for (value, code) in [("junk", "invalid"), ("Bearer " + user, "invalid"), ("", "unknown")] {
            let answer = try await H.call(tg, "/tokens/decode", ["token-key": "token", "token-value": value])
            #expect(answer.json["error-code"] as? String == code, "\(code)")
            #expect((answer.json["resources"] as? [Any])?.isEmpty == true)
        }
        tg.clock.advance(by: 3601)
        let expired = try await H.call(tg, "/tokens/decode", ["token-key": "token", "token-value": token])
        #expect(expired.json["error-code"] as? String == "expired")
        #expect(expired.json["token-type"] as? String == "stone-viewer-publication")
    }

    @Test func tokenCreationChecksTypeResourcesAndValidity() async throws {
        let forge = TokenForge()
        let tg = try await H.start(forge) { config in
            config.orthanc.shareTokens.maxValiditySeconds = 86400
            config.orthanc.shareTokens.defaultValiditySeconds = 3600
        }
        defer { Task { await tg.stop() } }
        let download = try await H.share(tg, type: "download-instant-link", study: Self.study, validity: 60)
        #expect(download.status == 200)
        #expect(download.json["url"] is NSNull, "instant links carry no URL: OE2 builds it")
        let long = try await H.share(tg, type: "download-instant-link", study: Self.study, validity: 10 * 86400)
        let expires = ((long.json["request"] as? [String: Any])?["expiration-date"] as? String).flatMap(ShareTokenDates.parse)
        #expect(expires == .seconds(Int(tg.clock.now()) + 86400), "shortened to max_validity_seconds")
        #expect(try await H.share(tg, type: "ohif-viewer-publication", study: Self.study).status == 400, "no public_ohif_root")
        #expect(try await H.share(tg, type: "meddream-instant-link", study: Self.study).status == 400)
        #expect(try await H.share(tg, type: "no-such-type", study: Self.study).status == 400)
        let mismatch = try await H.call(
            tg, "/tokens/viewer-instant-link", ["type": "download-instant-link", "resources": [["orthanc-id": Self.study.id, "level": "study"]]], method: .PUT)
        #expect(mismatch.status == 400)
        for resources: [[String: Any]] in [
            [], [["level": "study"]], [["orthanc-id": Self.study.id, "level": "galaxy"]], [["orthanc-id": "a\u{0}b", "level": "study"]],
        ] {
            let bad = try await H.call(tg, "/tokens/viewer-instant-link", ["resources": resources], method: .PUT)
            #expect(bad.status == 400, "\(resources)")
            #expect(bad.json["error"] is String)
        }
        let dated = try await H.call(
            tg, "/tokens/viewer-instant-link",
            [
                "resources": [["orthanc-id": Self.study.id, "level": "study"]], "expiration-date": ShareTokenDates.render(Int(tg.clock.now()) + 120),
            ], method: .PUT)
        #expect(dated.status == 200)
        let past = try await H.call(
            tg, "/tokens/viewer-instant-link",
            [
                "resources": [["orthanc-id": Self.study.id, "level": "study"]], "expiration-date": "2001-01-01T00:00:00Z",
            ], method: .PUT)
        #expect(past.status == 400)
        #expect(try await tg.get("/health").status == 200)
    }

    @Test func rolesSettingsAreReadOnlyUnlessFileBackedAndAlwaysValidated() async throws {
        let forge = TokenForge()
        let readOnly = try await H.start(forge)
        defer { Task { await readOnly.stop() } }
        let shown = try await readOnly.send("/settings/roles", method: .GET, headers: H.headers, body: nil)
        #expect(((shown.json["roles"] as? [String: Any])?["doctor"] as? [String: Any])?["permissions"] as? [String] == ["view", "download", "share"])
        #expect(shown.json["available-labels"] as? [String] == [])
        #expect(try await H.call(readOnly, "/settings/roles", ["roles": [:], "server-id": nil], method: .PUT).status == 403)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(UUID().uuidString).json").path
        try Data(#"{"roles":{"doctor":{"permissions":["view"],"authorized-labels":["*"]}},"available-labels":["public"]}"#.utf8).write(
            to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let tg = try await H.start(forge) { config in
            config.orthanc.permissions?.roles = nil
            config.orthanc.permissions?.rolesFile = file
        }
        defer { Task { await tg.stop() } }
        let doctor = H.user(forge, tg, roles: ["doctor"])
        func permissions() async throws -> [String]? {
            try await H.call(tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + doctor, "server-id": nil]).json["permissions"]
                as? [String]
        }
        #expect(try await permissions() == ["view"])
        let bad = try await H.call(
            tg, "/settings/roles", ["roles": ["doctor": ["permissions": ["view", "a|b"], "authorized-labels": ["*"]]], "server-id": nil], method: .PUT)
        #expect(bad.status == 400)
        #expect((bad.json["error"] as? String)?.contains("is not a permission name") == true)
        let updated = try await H.call(
            tg, "/settings/roles",
            [
                "roles": ["doctor": ["permissions": ["view", "upload"], "authorized-labels": ["*"]]], "available-labels": ["public", "teaching"],
                "server-id": "orthanc-a",
            ], method: .PUT)
        #expect(updated.status == 200)
        #expect(try await permissions() == ["view", "upload"])
        let onDisk = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        #expect(onDisk?["available-labels"] as? [String] == ["public", "teaching"])
        #expect(onDisk?["server-id"] == nil)
    }

    /// What OE2's roles page reads and saves (SettingsPermissions.vue): both label-list names, roles
    /// whose lists it emptied, and permission names the plugin's ExtraPermissions added.
    @Test func everythingOE2sRolesPageSendsIsSaved() async throws {
        let forge = TokenForge()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(UUID().uuidString).json").path
        // orthanc-auth-service's permissions.json is JSON with comments.
        try Data(
            """
            // SPDX-License-Identifier: CC0-1.0
            {
              "roles": {
                /* the study list */ "doctor": {"authorized-labels": ["*"], "permissions": ["view", "download"]},
                "external": {"authorized-labels": ["external"], "permissions": ["view"]} // a comment "with quotes"
              },
              "available-labels": ["external", "url//not-a-comment"]
            }
            """.utf8
        ).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let tg = try await H.start(forge) { config in
            config.orthanc.permissions?.roles = nil
            config.orthanc.permissions?.rolesFile = file
        }
        defer { Task { await tg.stop() } }
        let shown = try await tg.send("/settings/roles", method: .GET, headers: H.headers, body: nil)
        #expect(shown.json["available-labels"] as? [String] == ["external", "url//not-a-comment"])
        #expect(shown.json["allowed-labels"] as? [String] == ["external", "url//not-a-comment"], "earlier OE2 releases read allowed-labels")
        // Saved as OE2 saves: a role with everything cleared, a custom permission, the labels under the older name.
        let saved = try await H.call(
            tg, "/settings/roles",
            [
                "roles": [
                    "doctor": ["permissions": ["view", "my-plugin-export"], "authorized-labels": ["*"]],
                    "external": ["permissions": [], "authorized-labels": []],
                ],
                "allowed-labels": ["external"], "server-id": "orthanc-a",
            ], method: .PUT)
        #expect(saved.status == 200, "\(saved.body)")
        let roles = saved.json["roles"] as? [String: [String: [String]]]
        #expect(roles?["external"]?["permissions"] == [] && roles?["external"]?["authorized-labels"] == [])
        #expect(roles?["doctor"]?["permissions"] == ["view", "my-plugin-export"])
        #expect(saved.json["available-labels"] as? [String] == ["external"])
        let external = H.user(forge, tg, roles: ["external"])
        let profile = try await H.call(tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + external, "server-id": nil])
        #expect(profile.json["permissions"] as? [String] == [], "an emptied role grants nothing")

        // An edit on disk is picked up without a restart; a broken edit is refused and the roles stay.
        try Data(#"{"roles":{"external":{"permissions":["view","download"],"authorized-labels":["external"]}}}"#.utf8)
            .write(to: URL(fileURLWithPath: file), options: .atomic)
        try await waitUntil(seconds: 20) {
            (try await H.call(tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + external, "server-id": nil])
                .json["permissions"] as? [String]) == ["view", "download"]
        }
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        await tg.app.orthancProfiles.reloadFileIfChanged()
        #expect(tg.app.orthancProfiles.roles.roles["external"]?.permissions == ["view", "download"])
        #expect(tg.logs.text.contains("roles_file changed but is not valid"))
    }

    /// orthanc-auth-service's lifetimes: expiration-date wins, then validity-duration, else the
    /// link never expires unless max_validity_seconds caps it; a longer request is shortened.
    @Test func shareLinkLifetimesAreOrthancAuthServices() async throws {
        let forge = TokenForge()
        let open = try await H.start(forge)
        defer { Task { await open.stop() } }
        let now = Int(open.clock.now())
        func expiry(_ answer: RunningTollgate.Answer) -> Any? { (answer.json["request"] as? [String: Any])?["expiration-date"] }
        let resources: [[String: Any]] = [["orthanc-id": Self.study.id, "dicom-uid": Self.study.uid, "level": "study"]]
        let both = try await H.call(
            open, "/tokens/viewer-instant-link",
            [
                "resources": resources, "expiration-date": ShareTokenDates.render(now + 7200), "validity-duration": 60,
            ], method: .PUT)
        #expect(expiry(both) as? String == ShareTokenDates.render(now + 7200), "expiration-date wins")
        let forever = try await H.call(open, "/tokens/viewer-instant-link", ["resources": resources, "expiration-date": nil], method: .PUT)
        #expect(forever.status == 200)
        #expect(expiry(forever) is NSNull, "neither: never expires (OE2's ShareDuration 0)")
        let far = try await H.call(open, "/tokens/viewer-instant-link", ["resources": resources, "expiration-date": "9999-12-31T00:00:00Z"], method: .PUT)
        #expect(far.status == 200 && expiry(far) is NSNull, "a far date is as good as never, not refused")
        let token = try #require(forever.json["token"] as? String)
        open.clock.advance(by: 10 * 365 * 86400)
        let decoded = try await H.call(open, "/tokens/decode", ["token-key": "token", "token-value": token])
        #expect(decoded.json["error-code"] == nil && decoded.json["token-type"] as? String == "viewer-instant-link", "still valid ten years on")

        let capped = try await H.start(forge) { $0.orthanc.shareTokens.maxValiditySeconds = 86400 }
        defer { Task { await capped.stop() } }
        let cappedNow = Int(capped.clock.now())
        for body: [String: Any?] in [
            ["resources": resources, "expiration-date": nil], ["resources": resources, "expiration-date": "9999-12-31T00:00:00Z"],
            ["resources": resources, "validity-duration": 10 * 86400],
        ] {
            let answer = try await H.call(capped, "/tokens/viewer-instant-link", body, method: .PUT)
            #expect(answer.status == 200, "a longer request is shortened, never refused")
            #expect(expiry(answer) as? String == ShareTokenDates.render(cappedNow + 86400), "\(body)")
        }
    }
}
