import Foundation
import Testing
@testable import TollgateDevIssuer
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// Issue 29's security defects, each as it was reproduced: the registry's secrets never leave
/// through a changed URL, writes never reach GLOBAL's connection on another organisation's
/// behalf, credentials never sit in a stored URL, and no body member counts twice.
@Suite("registry keeps its secrets")
struct RegistrySecretsTests {
    typealias C = ConnectionsAPITests

    @Test func aChangedDestinationNeedsTheSecretAgainAndDropsTheTokens() async throws {
        let directory = scratchDirectory()
        let attacker = try await PeerServer.start()
        defer { Task { await attacker.stop() } }
        let tg = try await C.start(directory: directory, key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        _ = try await tg.post("/oauth/connections", json: C.createBody(tg, name: "cc1"), headers: apiKeyHeader)
        _ = try await tg.get("/oauth/credentials/cc1", headers: apiKeyHeader)
        let etag = try #require(try await tg.get("/oauth/connections/cc1", headers: apiKeyHeader).header("ETag"))
        let evil = "http://127.0.0.1:\(attacker.port)/oauth/token"
        for change in [#"{"token_url":"\#(evil)"}"#, #"{"client_id":"someone-else"}"#, #"{"auth_method":"client_secret_post"}"#] {
            let refused = try await tg.put("/oauth/connections/cc1", json: change, headers: apiKeyHeader + [("If-Match", etag)])
            #expect(refused.status == 400 && refused.json["error"] as? String == "SECRET_REQUIRED", "\(change): \(refused.body)")
        }
        _ = try await tg.post("/oauth/connections/cc1/test", json: "{}", headers: apiKeyHeader)
        #expect(attacker.tokenRequests.isEmpty, "the stored secret never went to the new URL")

        // With the secret in the same request the change is the caller's own: the old token is dropped.
        let current = try #require(try await tg.get("/oauth/connections/cc1", headers: apiKeyHeader).header("ETag"))
        let moved = try await tg.put(
            "/oauth/connections/cc1", json: #"{"token_url":"\#(evil)","client_secret":"a-new-secret"}"#,
            headers: apiKeyHeader + [("If-Match", current)])
        #expect(moved.status == 200 && moved.json["status"] as? String == "not_connected", "\(moved.body)")
        _ = try await tg.post("/oauth/connections/cc1/test", json: "{}", headers: apiKeyHeader)
        let asked: [PeerServer.TokenRequest] = attacker.tokenRequests
        #expect(asked.count == 1, "the new URL gets the new secret only")
        let sent = asked.map { request -> String in (request.authorization ?? "") + request.form.values.joined() }.joined()
        #expect(!sent.contains(Data("tollgate-dev:tollgate-dev-secret".utf8).base64EncodedString()) && !sent.contains("tollgate-dev-secret"))
        #expect(!tg.logs.text.contains("a-new-secret") && !tg.logs.text.contains("tollgate-dev-secret"))
    }

    @Test func dependencyWritesNeverFallBackToGlobal() async throws {
        let tg = try await C.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        _ = try await tg.post("/oauth/connections", json: C.createBody(tg), headers: apiKeyHeader)
        #expect(try await tg.post("/oauth/connections/pacs/dependencies", json: #"{"dependent_id":"wf-global"}"#, headers: apiKeyHeader).status == 201)
        let orgB = apiKeyHeader + [("X-Organization-Id", "orgB")]
        let added = try await tg.post("/oauth/connections/pacs/dependencies", json: #"{"dependent_id":"wf-b"}"#, headers: orgB)
        #expect(added.status == 404 && added.json["error"] as? String == "CONNECTION_NOT_FOUND")
        let removed = try await tg.send("/oauth/connections/pacs/dependencies/wf-global", method: .DELETE, headers: orgB, body: nil)
        #expect(removed.status == 404, "orgB cannot lift GLOBAL's CONNECTION_IN_USE guard")
        let deleted = try await tg.send("/oauth/connections/pacs", method: .DELETE, headers: apiKeyHeader, body: nil)
        #expect(deleted.status == 409 && deleted.json["error"] as? String == "CONNECTION_IN_USE")
        // Reads still fall back.
        #expect(try await tg.get("/oauth/connections/pacs/dependencies", headers: orgB).status == 200)
    }

    @Test func credentialsInAURLAreRefusedNeverStored() async throws {
        let directory = scratchDirectory()
        let tg = try await C.start(directory: directory, key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        let valid = C.createBody(tg)
        let hostPort = tg.base.dropFirst("http://".count)
        for url in [
            "http://user:hunter2hunter2@\(hostPort)/dev-issuer/token", "\(tg.base)/dev-issuer/token?client_secret=hunter2hunter2",
            "\(tg.base)/dev-issuer/token?api_key=hunter2hunter2", "\(tg.base)/dev-issuer/token?X_Refresh_Token=hunter2hunter2",
        ] {
            let answer = try await tg.post(
                "/oauth/connections", json: valid.replacingOccurrences(of: "\(tg.base)/dev-issuer/token", with: url), headers: apiKeyHeader)
            #expect(answer.status == 400 && answer.json["error"] as? String == "INVALID_REQUEST", "\(url)")
            #expect(!answer.body.contains("hunter2hunter2"))
        }
        _ = try await tg.post("/oauth/connections", json: valid, headers: apiKeyHeader)
        let etag = try #require(try await tg.get("/oauth/connections/pacs", headers: apiKeyHeader).header("ETag"))
        let put = try await tg.put(
            "/oauth/connections/pacs", json: #"{"url":"https://pacs.example.org/dicom-web/?token=hunter2hunter2"}"#,
            headers: apiKeyHeader + [("If-Match", etag)])
        #expect(put.status == 400)
        // Ordinary query parameters stay allowed.
        #expect(
            try await tg.put(
                "/oauth/connections/pacs", json: #"{"url":"https://pacs.example.org/dicom-web/?tenant=north"}"#,
                headers: apiKeyHeader + [("If-Match", etag)]
            ).status == 200)
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory) {
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + file))
            #expect(bytes.range(of: Data("hunter2hunter2".utf8)) == nil, "\(file)")
        }
    }

    @Test func noMemberCountsTwiceInAnyRegistryOrEvictionBody() async throws {
        let tg = try await C.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        let valid = C.createBody(tg)
        let twice = valid.replacingOccurrences(of: #""scopes":"read""#, with: #""scopes":"read","scopes":"admin""#)
        let created = try await tg.post("/oauth/connections", json: twice, headers: apiKeyHeader)
        #expect(created.status == 400 && created.json["error"] as? String == "INVALID_REQUEST", "\(created.body)")
        _ = try await tg.post("/oauth/connections", json: valid, headers: apiKeyHeader)
        let etag = try #require(try await tg.get("/oauth/connections/pacs", headers: apiKeyHeader).header("ETag"))
        #expect(try await tg.put("/oauth/connections/pacs", json: #"{"scopes":"a","scopes":"b"}"#, headers: apiKeyHeader + [("If-Match", etag)]).status == 400)
        for body in [#"{"dependent_id":"a","dependent_id":"b"}"#, #"{"dependent_id":"a","extra":1}"#, #"{"dependent_id":"a","dependent_name":7}"#] {
            #expect(try await tg.post("/oauth/connections/pacs/dependencies", json: body, headers: apiKeyHeader).status == 400, "\(body)")
        }
        #expect(try await tg.post("/admin/cache/evict", json: #"{"token":"a","token":"b"}"#, headers: apiKeyHeader).status == 400)
        #expect(try await tg.post("/oauth/connections", json: #"{"connection_name":"x\ud800"}"#, headers: apiKeyHeader).status == 400, "a lone surrogate")
    }
}
