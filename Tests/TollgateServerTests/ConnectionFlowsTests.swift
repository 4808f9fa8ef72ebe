import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// The registry's user flows over loopback against an IdP written for them: the authorization
/// code with PKCE and single-use state, imported and one-time refresh tokens, `invalid_grant`
/// and the background refresh.
@Suite("runtime connections: authorization code and refresh tokens")
struct ConnectionFlowsTests {
    static func codeBody(_ idp: CodeFlowIdP, name: String = "vna", issuer: Bool = true) -> String {
        #"{"connection_name":"\#(name)","oauth_flow_type":"authorization_code","client_id":"\#(CodeFlowIdP.clientID)","client_secret":"\#(CodeFlowIdP.clientSecret)","token_url":"\#(idp.tokenURL)","authorization_url":"\#(idp.authorizationURL)","scopes":"dicom.read,offline_access""#
            + (issuer ? #","issuer":"\#(idp.issuer)"}"# : "}")
    }

    static func refreshBody(_ idp: CodeFlowIdP, name: String = "archive", refreshToken: String? = nil) -> String {
        #"{"connection_name":"\#(name)","oauth_flow_type":"refresh_token","client_id":"\#(CodeFlowIdP.clientID)","client_secret":"\#(CodeFlowIdP.clientSecret)","token_url":"\#(idp.tokenURL)""#
            + (refreshToken.map { #","refresh_token":"\#($0)"}"# } ?? "}")
    }

    static func start(_ directory: String, _ key: String = RegistryKeyring.generateKeyMaterial()) async throws -> RunningTollgate {
        try await ConnectionsAPITests.start(directory: directory, key: key) { config in
            config.registry.callbackBaseURL = "https://tollgate.example.org/"
        }
    }

    static func query(_ parameters: [String: String]) -> String {
        "?" + FormEncoding.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    @Test func theAuthorizationCodeFlowUsesPKCEAndAStateThatWorksOnce() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let directory = scratchDirectory()
        let tg = try await Self.start(directory)
        defer { Task { await tg.stop() } }

        let created = try await tg.post("/oauth/connections", json: Self.codeBody(idp), headers: apiKeyHeader)
        #expect(created.status == 201 && created.json["redirect_uri"] as? String == "https://tollgate.example.org/oauth/callback/vna")
        #expect(try await tg.get("/oauth/credentials/vna", headers: apiKeyHeader).json["error"] as? String == "NOT_CONNECTED")
        #expect(try await tg.post("/oauth/connections/vna/authorize", json: "", headers: []).status == 401, "authorize is an admin route")

        let started = try await tg.post("/oauth/connections/vna/authorize", json: "", headers: apiKeyHeader)
        #expect(started.status == 200)
        let url = try #require(started.json["authorization_url"] as? String)
        let items = try #require(URLComponents(string: url)?.queryItems)
        let query = items.reduce(into: [String: String]()) { $0[$1.name] = $1.value }
        #expect(url.hasPrefix(idp.base + "/authorize?prompt=consent&response_type=code&"))
        #expect(query["code_challenge_method"] == "S256" && query["code_challenge"]?.utf8.count == 43)
        #expect(query["scope"] == "dicom.read offline_access" && query["redirect_uri"] == "https://tollgate.example.org/oauth/callback/vna")
        #expect((query["state"]?.utf8.count ?? 0) >= 43)
        #expect(try await tg.get("/oauth/connections/vna", headers: apiKeyHeader).json["status"] as? String == "waiting_callback")

        // The IdP's redirect comes back with the code, the state and RFC 9207's iss; no admin credentials.
        var callback = try idp.approve(url)
        callback["iss"] = idp.issuer
        let done = try await tg.get("/oauth/callback/vna" + Self.query(callback))
        #expect(done.status == 200 && done.json["status"] as? String == "completed", "\(done.body)")
        #expect(done.header("Cache-Control") == "no-store" && done.header("Referrer-Policy") == "no-referrer")
        #expect(idp.grants("authorization_code") == 1 && idp.invalidGrants == 0, "the IdP checked the verifier against the challenge")
        let credentials = try await tg.get("/oauth/credentials/vna", headers: apiKeyHeader)
        #expect(credentials.status == 200 && (credentials.json["access_token"] as? String)?.hasPrefix("code-flow-at-") == true)
        #expect(try await tg.get("/oauth/connections/vna", headers: apiKeyHeader).json["has_refresh_token"] as? Bool == true)

        // Replayed: the state is gone. Tampered: never known. Neither reaches the IdP.
        let replay = try await tg.get("/oauth/callback/vna" + Self.query(callback))
        #expect(replay.status == 400 && replay.json["error"] as? String == "INVALID_STATE")
        var tampered = callback
        tampered["state"] = String(callback["state"]!.dropLast()) + (callback["state"]!.hasSuffix("A") ? "B" : "A")
        #expect(try await tg.get("/oauth/callback/vna" + Self.query(tampered)).json["error"] as? String == "INVALID_STATE")
        #expect(try await tg.get("/oauth/callback/vna?code=x").json["error"] as? String == "INVALID_STATE")
        #expect(idp.grants("authorization_code") == 1)

        // A state issued for one connection does not complete another.
        _ = try await tg.post("/oauth/connections", json: Self.codeBody(idp, name: "other"), headers: apiKeyHeader)
        let forOther = try idp.approve(
            try #require(try await tg.post("/oauth/connections/other/authorize", json: "", headers: apiKeyHeader).json["authorization_url"] as? String))
        #expect(try await tg.get("/oauth/callback/vna" + Self.query(forOther)).json["error"] as? String == "INVALID_STATE")

        // A response naming another issuer is refused (a mix-up attack), and the IdP's own errors are reported cleanly.
        var mixedUp = try idp.approve(
            try #require(try await tg.post("/oauth/connections/vna/authorize", json: "", headers: apiKeyHeader).json["authorization_url"] as? String))
        mixedUp["iss"] = "https://attacker.example/realm"
        let refused = try await tg.get("/oauth/callback/vna" + Self.query(mixedUp))
        #expect(refused.status == 400 && refused.json["error"] as? String == "ISSUER_MISMATCH")
        let denied = try idp.approve(
            try #require(try await tg.post("/oauth/connections/vna/authorize", json: "", headers: apiKeyHeader).json["authorization_url"] as? String))
        let deniedAnswer = try await tg.get("/oauth/callback/vna" + Self.query(["state": denied["state"]!, "error": "access_denied\u{1B}[31m"]))
        #expect(deniedAnswer.status == 400 && deniedAnswer.json["error"] as? String == "AUTHORIZATION_DENIED" && !deniedAnswer.body.contains("\u{1B}"))
        #expect(idp.grants("authorization_code") == 1)

        // Nothing secret at rest or in the logs: no token, refresh token, verifier, state or client secret.
        let refreshTokens = idp.liveRefreshTokens
        let secrets = [callback["state"]!, CodeFlowIdP.clientSecret, try #require(credentials.json["access_token"] as? String)] + Array(refreshTokens)
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory) {
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + file))
            for secret in secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file)") }
        }
        for secret in secrets + [callback["code"]!] { #expect(!tg.logs.text.contains(secret)) }
        let listed = try await tg.get("/oauth/connections", headers: apiKeyHeader)
        for secret in secrets.dropFirst() { #expect(!listed.body.contains(secret)) }
    }

    @Test func oneTimeRefreshTokensRotateOncePerRefreshAndADeadOneAsksForReauthorization() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let directory = scratchDirectory()
        let key = RegistryKeyring.generateKeyMaterial()
        let tg = try await Self.start(directory, key)

        #expect(try await tg.post("/oauth/connections", json: Self.refreshBody(idp), headers: apiKeyHeader).status == 201)
        #expect(try await tg.get("/oauth/credentials/archive", headers: apiKeyHeader).json["error"] as? String == "NOT_CONNECTED")
        idp.setBareRefusals(true)
        let dead = try await tg.post("/oauth/connections/archive/refresh-token", json: #"{"refresh_token":"rt-never-issued"}"#, headers: apiKeyHeader)
        #expect(dead.status == 503 && dead.json["error"] as? String == "REAUTHORIZATION_REQUIRED", "a bare 400, as Glewlwyd sends")
        idp.setBareRefusals(false)
        #expect(try await tg.post("/oauth/connections/archive/refresh-token", json: #"{"refresh_token":"x","scope":"y"}"#, headers: apiKeyHeader).status == 400)

        // A refresh token obtained elsewhere is imported and exchanged at once.
        let imported = try await tg.post(
            "/oauth/connections/archive/refresh-token", json: #"{"refresh_token":"\#(idp.mintRefreshToken())"}"#, headers: apiKeyHeader)
        #expect(imported.status == 200 && imported.json["status"] as? String == "completed" && imported.json["has_refresh_token"] as? Bool == true)
        #expect(idp.grants("refresh_token") == 2 && idp.liveRefreshTokens.count == 1)

        // 50 concurrent forced refreshes: each refresh the IdP sees presents the live token, none is refused.
        idp.setRefreshDelay(milliseconds: 50)
        let forced = try await withThrowingTaskGroup(of: UInt.self) { group in
            for _ in 0..<50 { group.addTask { try await tg.post("/oauth/connections/archive/test", json: "", headers: apiKeyHeader).status } }
            return try await group.reduce(into: [UInt]()) { $0.append($1) }
        }
        #expect(forced.allSatisfy { $0 == 200 })
        let refreshes = idp.grants("refresh_token") - 2
        #expect(refreshes >= 1 && refreshes < 50, "callers share flights: \(refreshes)")
        #expect(idp.invalidGrants == 1, "only the never-issued token was refused")
        #expect(idp.liveRefreshTokens.count == 1)

        // An answer without a new refresh token keeps the old one (golang.org/x/oauth2's rule).
        idp.setRotation(false)
        idp.setRefreshDelay(milliseconds: 0)
        for _ in 0..<3 { #expect(try await tg.post("/oauth/connections/archive/test", json: "", headers: apiKeyHeader).status == 200) }
        #expect(idp.invalidGrants == 1)

        // A restart keeps the refresh token.
        await tg.stop()
        let again = try await Self.start(directory, key)
        defer { Task { await again.stop() } }
        #expect(try await again.post("/oauth/connections/archive/test", json: "", headers: apiKeyHeader).status == 200)

        // Consent withdrawn at the IdP: one invalid_grant, then callers are told without another IdP call.
        idp.revokeConsent()
        let revoked = try await again.post("/oauth/connections/archive/test", json: "", headers: apiKeyHeader)
        #expect(revoked.status == 503 && revoked.json["error"] as? String == "REAUTHORIZATION_REQUIRED" && revoked.json["status"] as? String == "failed")
        let view = try await again.get("/oauth/connections/archive", headers: apiKeyHeader)
        #expect(view.json["status"] as? String == "failed" && view.json["has_refresh_token"] as? Bool == false)
        #expect((view.json["status_message"] as? String)?.hasPrefix("REAUTHORIZATION_REQUIRED") == true)
        let asked = idp.grants("refresh_token")
        for _ in 0..<5 {
            #expect(try await again.get("/oauth/credentials/archive?min_ttl=0", headers: apiKeyHeader).json["error"] as? String == "REAUTHORIZATION_REQUIRED")
        }
        #expect(idp.grants("refresh_token") == asked, "no retry storm")
        let metrics = try await again.get("/metrics").body
        #expect(metrics.contains(#"tollgate_registry_token_requests_total{grant="refresh_token",result="invalid_grant"} 1"#))
        #expect(metrics.contains(#"tollgate_registry_token_requests_total{grant="refresh_token",result="success"}"#))
    }

    @Test func theBackgroundRefreshKeepsTokensFreshAndRefreshTokensAlive() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await Self.start(scratchDirectory())
        defer { Task { await tg.stop() } }
        let connections = try #require(tg.app.connections)
        let refresher = ConnectionRefresher(connections: connections, config: RegistryRefreshConfig())

        idp.setExpiresIn(7 * 86400)
        _ = try await tg.post("/oauth/connections", json: Self.refreshBody(idp, refreshToken: idp.mintRefreshToken()), headers: apiKeyHeader)
        #expect(await refresher.sweep() == 0, "a connection that never had a token is not the refresher's business")
        #expect(try await tg.get("/oauth/credentials/archive", headers: apiKeyHeader).status == 200)
        #expect(idp.grants("refresh_token") == 1)
        #expect(await refresher.sweep() == 0)

        // Idle for a day: the refresh token is exercised although the access token has days left.
        tg.clock.advance(by: 24 * 3600 + 1)
        #expect(await refresher.sweep() == 1)
        #expect(idp.grants("refresh_token") == 2)
        #expect(await refresher.sweep() == 0)

        // Near expiry: replaced ahead of time.
        tg.clock.advance(by: 7 * 86400 - 200)
        #expect(await refresher.sweep() == 1)
        #expect(idp.grants("refresh_token") == 3)

        // A failed connection is left alone.
        idp.revokeConsent()
        tg.clock.advance(by: 7 * 86400)
        #expect(await refresher.sweep() == 1)
        #expect(try await tg.get("/oauth/connections/archive", headers: apiKeyHeader).json["status"] as? String == "failed")
        #expect(await refresher.sweep() == 0)
    }

    @Test func createRefusesFlowFieldsThatDoNotBelong() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await ConnectionsAPITests.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        let noRedirect = try await tg.post("/oauth/connections", json: Self.codeBody(idp), headers: apiKeyHeader)
        #expect(noRedirect.status == 400 && (noRedirect.json["message"] as? String)?.contains("callback_base_url") == true)
        let withRedirect = Self.codeBody(idp).replacingOccurrences(of: #""scopes""#, with: #""redirect_uri":"https://pacs.example/cb","scopes""#)
        #expect(try await tg.post("/oauth/connections", json: withRedirect, headers: apiKeyHeader).status == 201)
        let ccWithRefresh = ConnectionsAPITests.createBody(tg, name: "cc").replacingOccurrences(of: "}", with: #","refresh_token":"rt-1"}"#)
        #expect(try await tg.post("/oauth/connections", json: ccWithRefresh, headers: apiKeyHeader).status == 400)
        let ccWithIssuer = ConnectionsAPITests.createBody(tg, name: "cc").replacingOccurrences(of: "}", with: #","issuer":"https://x.example"}"#)
        #expect(try await tg.post("/oauth/connections", json: ccWithIssuer, headers: apiKeyHeader).status == 400)
        #expect(try await tg.post("/oauth/connections/vna/authorize", json: "", headers: apiKeyHeader).status == 200)
        #expect(try await tg.post("/oauth/connections", json: ConnectionsAPITests.createBody(tg, name: "cc"), headers: apiKeyHeader).status == 201)
        #expect(try await tg.post("/oauth/connections/cc/authorize", json: "", headers: apiKeyHeader).json["error"] as? String == "UNSUPPORTED_FLOW")
    }

    @Test func tokenAndProxyResolveConfiguredNamesFirstThenRuntimeOnes() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await Self.start(scratchDirectory())
        defer { Task { await tg.stop() } }
        let body = ConnectionsAPITests.createBody(tg).replacingOccurrences(of: "}", with: #","url":"\#(peer.upstreamURL)dicom-web"}"#)
        let created = try await tg.post("/oauth/connections", json: body, headers: apiKeyHeader)
        #expect(created.status == 201 && created.json["url"] as? String == peer.upstreamURL + "dicom-web")

        // /token/{name}: seed 004's shape, the same token the credentials endpoint holds.
        let token = try await tg.get("/token/pacs", headers: apiKeyHeader)
        #expect(token.status == 200 && token.header("Cache-Control") == "no-store")
        let value = try #require(token.json["access_token"] as? String)
        #expect(try await tg.get("/oauth/credentials/pacs", headers: apiKeyHeader).json["access_token"] as? String == value)

        // /proxy/{name}: forwarded below the connection's url with its token; another organisation reads GLOBAL's.
        let proxied = try await tg.get("/proxy/pacs/studies?PatientID=42", headers: apiKeyHeader + [("X-Organization-Id", "ORG-3")])
        #expect(proxied.status == 200)
        let seen = try #require(peer.upstreamRequests.last)
        #expect(seen.path.hasSuffix("/dicom-web/studies") && seen.query == "PatientID=42")
        #expect(seen.header("Authorization") == "Bearer " + value && seen.header("X-Organization-Id") == nil && seen.header("X-API-Key") == nil)
        #expect(try await tg.get("/proxy/pacs/studies", headers: []).status == 401, "behind admin.auth_mode")

        // Unknown names, connections without a url or without a token answer with their own codes.
        #expect(try await tg.get("/proxy/nope/studies", headers: apiKeyHeader).json["error"] as? String == "ENDPOINT_NOT_FOUND")
        #expect(try await tg.get("/token/nope", headers: apiKeyHeader).json["error"] as? String == "ENDPOINT_NOT_FOUND")
        _ = try await tg.post("/oauth/connections", json: ConnectionsAPITests.createBody(tg, name: "nourl"), headers: apiKeyHeader)
        #expect(try await tg.get("/proxy/nourl/x", headers: apiKeyHeader).json["error"] as? String == "INVALID_REQUEST")
        _ = try await tg.post(
            "/oauth/connections", json: Self.codeBody(idp).replacingOccurrences(of: "}", with: #","url":"\#(peer.upstreamURL)"}"#),
            headers: apiKeyHeader)
        let waiting = try await tg.get("/proxy/vna/studies", headers: apiKeyHeader)
        #expect(waiting.status == 503 && waiting.json["error"] as? String == "NOT_CONNECTED")
        #expect(try await tg.get("/token/vna", headers: apiKeyHeader).json["error"] as? String == "NOT_CONNECTED")
    }

    @Test func runtimeConnectionsArePushedIntoOrthancAndRemovedWithTheConnection() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await ConnectionsAPITests.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial()) { config in
            config.orthanc.url = peer.base
            config.orthanc.checkIntervalSeconds = 1
            // A config-file definition drawing on a GLOBAL runtime connection rather than an outbound server.
            config.orthanc.dicomwebServers = ["from-config": OrthancDicomWebServerConfig(outboundServer: "pacs", extra: ["HasDelete": .bool(true)])]
        }
        defer { Task { await tg.stop() } }
        let push = #","url":"\#(peer.upstreamURL)dicom-web","orthanc_push":{"name":"runtime-b","extra":{"Timeout":30,"Site":"east"}}}"#
        let created = try await tg.post(
            "/oauth/connections", json: ConnectionsAPITests.createBody(tg).replacingOccurrences(of: "}", with: push),
            headers: apiKeyHeader)
        #expect(created.status == 201, "\(created.body)")
        #expect((created.json["orthanc_push"] as? [String: Any])?["name"] as? String == "runtime-b")

        try await waitUntil { peer.orthancDefinition("runtime-b") != nil && peer.orthancDefinition("from-config") != nil }
        let pushed = try #require(peer.orthancDefinition("runtime-b"))
        let token = try #require(try await tg.get("/oauth/credentials/pacs", headers: apiKeyHeader).json["access_token"] as? String)
        #expect((pushed["HttpHeaders"] as? [String: String])?["Authorization"] == "Bearer " + token)
        #expect(pushed["Url"] as? String == peer.upstreamURL + "dicom-web/" && pushed["Site"] as? String == "east" && pushed["Timeout"] as? Int == 30)
        #expect(pushed["TollgateTokenExpires"] != nil)
        #expect(peer.orthancDefinition("from-config")?["HasDelete"] as? Bool == true)

        // Names are unique across config and runtime; extra is checked like config's; no passwords kept in the clear.
        let second = { (name: String, extra: String) in
            ConnectionsAPITests.createBody(tg, name: "other").replacingOccurrences(
                of: "}", with: #","url":"\#(peer.upstreamURL)","orthanc_push":{"name":"\#(name)","extra":\#(extra)}}"#)
        }
        #expect(try await tg.post("/oauth/connections", json: second("runtime-b", "{}"), headers: apiKeyHeader).json["error"] as? String == "CONNECTION_EXISTS")
        #expect(try await tg.post("/oauth/connections", json: second("from-config", "{}"), headers: apiKeyHeader).json["error"] as? String == "NAME_RESERVED")
        for extra in [#"{"Url":"http://x"}"#, #"{"Password":"p"}"#, #"{"Timeout":-1}"#, #"{"Nested":{"a":1}}"#] {
            #expect(try await tg.post("/oauth/connections", json: second("fresh", extra), headers: apiKeyHeader).status == 400, "\(extra)")
        }

        // Deleting the connection removes both definitions from Orthanc.
        #expect(try await tg.send("/oauth/connections/pacs", method: .DELETE, headers: apiKeyHeader, body: nil).status == 204)
        try await waitUntil { peer.orthancDefinition("runtime-b") == nil && peer.orthancDefinition("from-config") == nil }
    }

    @Test func aSecondServerOnTheSameSQLiteFileIsRefused() async throws {
        let directory = scratchDirectory()
        let key = RegistryKeyring.generateKeyMaterial()
        let tg = try await ConnectionsAPITests.start(directory: directory, key: key)
        defer { Task { await tg.stop() } }
        await #expect(throws: ConfigErrors.self) {
            _ = try await ConnectionsAPITests.start(directory: directory, key: key)
        }
        // Maintenance beside the server (rewrap) does not need the lock.
        var config = RegistryConfig()
        config.sqlite.path = directory + "/registry.sqlite"
        config.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(key))]
        let maintenance = try await ConnectionRegistry.open(config: config, exclusive: false, logger: .init(label: "t"))
        await maintenance.close()
    }
}
