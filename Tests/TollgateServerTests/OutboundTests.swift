import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// Outbound client credentials against the embedded dev issuer, over loopback: token sources,
/// the seed-000 status API, seed-004 token endpoints and admin authentication.
@Suite("outbound tokens with the dev issuer")
struct OutboundTests {
    /// Two servers on the dev issuer: one client_secret_basic (with a secret that needs form
    /// encoding), one client_secret_post with an RFC 8707 resource. Each proxies to Tollgate's own
    /// forward-auth endpoint, so a proxied request passes only with a valid injected token.
    static func start(clock: ManualClock = ManualClock(), _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await RunningTollgate.start(clock: clock) { config in
            let base = "http://127.0.0.1:\(config.server.port)"
            config.admin = AdminConfig(apiKeys: ["an-older-key-still-valid-0001", testAPIKey])
            var basic = OutboundServerConfig(
                url: base + "/auth/", tokenEndpoint: base + "/dev-issuer/token", clientID: "reader",
                clientSecret: "reader secret&=+", scope: "read")
            basic.retry.baseDelayMS = 20
            // These tests count token requests: on a loaded machine a slow answer must not become a retry.
            basic.timeoutMS = 60_000
            var post = OutboundServerConfig(
                url: base + "/auth", tokenEndpoint: base + "/dev-issuer/token", clientID: "tollgate-dev",
                clientSecret: "tollgate-dev-secret", scope: "write", authMethod: .clientSecretPost)
            post.resource = "https://pacs.example.org/dicom-web"
            post.retry.baseDelayMS = 20
            post.timeoutMS = 60_000
            config.outbound.servers = ["dev-basic": basic, "dev-post": post]
            adjust(&config)
        }
    }

    @Test func tokensAreFetchedOnceAndServedFromMemory() async throws {
        let tg = try await Self.start()
        defer { Task { await tg.stop() } }
        #expect(tg.app.devIssuer!.requestCount(.token) == 2)
        var seen: Set<String> = []
        for _ in 0..<50 {
            let answer = try await tg.get("/token/dev-basic", headers: apiKeyHeader)
            #expect(answer.status == 200)
            #expect(answer.header("Cache-Control") == "no-store")
            seen.insert(answer.json["access_token"] as? String ?? "")
            #expect(answer.json["token_type"] as? String == "Bearer")
            #expect((3590...3600).contains(answer.json["expires_in"] as? Int ?? 0))
        }
        #expect(seen.count == 1)
        #expect(tg.app.devIssuer!.requestCount(.token) == 2)
        let basic = jwtClaims(seen.first!)
        #expect(basic["client_id"] as? String == "reader")
        #expect(basic["scope"] as? String == "read")
        let post = try await tg.get("/token/dev-post", headers: apiKeyHeader).json["access_token"] as? String ?? ""
        #expect(jwtClaims(post)["client_id"] as? String == "tollgate-dev")
        #expect(jwtClaims(post)["aud"] as? String == "https://pacs.example.org/dicom-web")
        #expect(try await tg.metric(#"tollgate_token_cache_hits_total{server="dev-basic"}"#) == 50)

        // The proxy injects the token; Tollgate's own /auth validates it and names the client.
        let proxied = try await tg.get("/proxy/dev-basic/", headers: apiKeyHeader + [("Authorization", "Bearer caller-token-must-not-pass")])
        #expect(proxied.status == 200)
        #expect(proxied.header("X-Auth-Client-Id") == "reader")
        #expect(try await tg.get("/proxy/dev-post/x", headers: apiKeyHeader).header("X-Auth-Client-Id") == "tollgate-dev")
        for secret in [seen.first!, post, "reader secret&=+", "tollgate-dev-secret"] { #expect(!tg.logs.text.contains(secret)) }
    }

    @Test func statusAPIReportsStateWithoutTokenCharacters() async throws {
        let tg = try await Self.start()
        defer { Task { await tg.stop() } }
        let token = try await tg.get("/token/dev-basic", headers: apiKeyHeader).json["access_token"] as? String ?? ""
        let status = try await tg.get("/dicomweb-oauth/status", headers: apiKeyHeader)
        #expect(status.json["configured_servers"] as? Int == 2)
        #expect(status.json["servers"] as? [String] == ["dev-basic", "dev-post"])
        #expect(status.json["ready"] as? Bool == true)

        let servers = try await tg.get("/dicomweb-oauth/servers", headers: apiKeyHeader)
        let list = servers.json["servers"] as? [[String: Any]] ?? []
        #expect(list.count == 2)
        let first = list.first ?? [:]
        #expect(first["name"] as? String == "dev-basic")
        #expect(first["token_endpoint_host"] as? String == "127.0.0.1")
        #expect(first["has_token"] as? Bool == true)
        #expect(first["token_valid"] as? Bool == true)
        #expect((3590...3600).contains(first["expires_in_seconds"] as? Int ?? 0))
        #expect(first["last_refresh"] is String)
        #expect(first["last_error"] is NSNull)
        #expect(first["circuit_state"] as? String == "closed")
        let parts = token.split(separator: ".")
        for text in [status.body, servers.body] {
            #expect(!text.contains("eyJ"))
            #expect(!text.contains(parts[1]) && !text.contains(parts[2]))
        }

        let test = try await tg.post("/dicomweb-oauth/servers/dev-basic/test", body: [], headers: apiKeyHeader)
        #expect(test.status == 200)
        #expect(test.json["status"] as? String == "success")
        #expect(test.json["expires_in"] as? Int == 3600)
        #expect(test.json["latency_ms"] is Int)
        #expect(!test.body.contains("eyJ"))
        #expect(tg.app.devIssuer!.requestCount(.token) == 3)
        let unknown = try await tg.post("/dicomweb-oauth/servers/nope/test", body: [], headers: apiKeyHeader)
        #expect(unknown.status == 404)
        #expect(unknown.json["error"] as? String == "ENDPOINT_NOT_FOUND")
        #expect(try await tg.get("/token/nope", headers: apiKeyHeader).json["error"] as? String == "ENDPOINT_NOT_FOUND")
        #expect(try await tg.get("/token", headers: apiKeyHeader).status == 404)
    }

    @Test func clearDropsTokensAndTheRefresherFetchesNewOnes() async throws {
        let tg = try await Self.start()
        defer { Task { await tg.stop() } }
        let before = try await tg.get("/token/dev-post", headers: apiKeyHeader).json["access_token"] as? String
        let cleared = try await tg.post("/token/clear?server=dev-post", body: [], headers: apiKeyHeader)
        #expect(cleared.json["cleared"] as? [String] == ["dev-post"])
        try await waitUntil { tg.app.devIssuer!.requestCount(.token) == 3 }
        try await waitUntil { tg.app.outbound["dev-post"]!.status.tokenValid }
        let after = try await tg.get("/token/dev-post", headers: apiKeyHeader).json["access_token"] as? String
        #expect(after != nil && after != before)
        #expect(try await tg.post("/token/clear?server=nope", body: [], headers: apiKeyHeader).status == 404)
        let all = try await tg.post("/token/clear", body: [], headers: apiKeyHeader)
        #expect(all.json["cleared"] as? [String] == ["dev-basic", "dev-post"])
        try await waitUntil { tg.app.devIssuer!.requestCount(.token) == 5 }
    }

    @Test func adminAPIKeysAreRequiredAndRotatable() async throws {
        let tg = try await Self.start()
        defer { Task { await tg.stop() } }
        for path in ["/token/dev-basic", "/dicomweb-oauth/status", "/dicomweb-oauth/servers", "/proxy/dev-basic/"] {
            let missing = try await tg.get(path)
            #expect(missing.status == 401)
            #expect(missing.json["error"] as? String == "INVALID_API_KEY")
            #expect(missing.json["request_id"] as? String == missing.header("X-Request-Id"))
            let wrong = try await tg.get(path, headers: [("X-API-Key", testAPIKey + "x")])
            #expect(wrong.status == 401)
            #expect(!wrong.body.contains("access_token"))
            let twice = try await tg.get(path, headers: apiKeyHeader + apiKeyHeader)
            #expect(twice.status == 401)
            #expect(try await tg.get(path, headers: [("X-API-Key", "an-older-key-still-valid-0001")]).status == 200)
            #expect(try await tg.get(path, headers: apiKeyHeader).status == 200)
        }
        #expect(try await tg.post("/token/clear", body: []).status == 401)
        #expect(try await tg.post("/dicomweb-oauth/servers/dev-basic/test", body: []).status == 401)
    }

    @Test func adminBearerModeValidatesCallersWithTheInboundValidator() async throws {
        let tg = try await Self.start { config in
            config.admin = AdminConfig(authMode: .bearer)
            config.admin.requiredScope = "write"
        }
        defer { Task { await tg.stop() } }
        let none = try await tg.get("/token/dev-basic")
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate") == #"Bearer realm="tollgate""#)
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        let narrow = try await tg.get("/token/dev-basic", headers: [("Authorization", "Bearer " + reader)])
        #expect(narrow.status == 403)
        #expect(narrow.header("WWW-Authenticate")?.contains(#"error="insufficient_scope""#) == true)
        #expect(narrow.header("WWW-Authenticate")?.contains(#"scope="write""#) == true)
        let garbage = try await tg.get("/dicomweb-oauth/servers", headers: [("Authorization", "Bearer not-a-token")])
        #expect(garbage.status == 401)
        let writer = try await tg.token(scope: "write")
        #expect(try await tg.get("/token/dev-basic", headers: [("Authorization", "Bearer " + writer)]).status == 200)
    }

    @Test func adminNoneModeIsOpenAndWarnsAtStart() async throws {
        let tg = try await Self.start { $0.admin = AdminConfig(authMode: .none) }
        defer { Task { await tg.stop() } }
        #expect(try await tg.get("/token/dev-basic").status == 200)
        #expect(tg.logs.text.contains("admin.auth_mode is none"))
    }

    /// Short-lived tokens (2 s) under 10,000 proxied requests: the token endpoint sees one fetch
    /// per refresh interval, never one per request, and no request carries an expired token.
    @Test func tokenFetchesFollowLifetimesNotRequests() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            let base = "http://127.0.0.1:\(config.server.port)"
            config.log.level = .info
            config.devIssuer.tokenTTLSeconds = 2
            config.admin = AdminConfig(authMode: .none)
            var server = OutboundServerConfig(
                url: peer.upstreamURL, tokenEndpoint: base + "/dev-issuer/token", clientID: "tollgate-dev",
                clientSecret: "tollgate-dev-secret")
            server.refreshBufferSeconds = 1
            config.outbound.servers = ["short": server]
        }
        defer { Task { await tg.stop() } }
        let fetchesBefore = tg.app.devIssuer!.requestCount(.token)
        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: [UInt].self) { group in
            for _ in 0..<20 {
                group.addTask {
                    var statuses: [UInt] = []
                    for _ in 0..<500 {
                        statuses.append(try await tg.get("/proxy/short/studies").status)
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let fetches = tg.app.devIssuer!.requestCount(.token) - fetchesBefore
        print(
            "outbound fetch-count test: \(statuses.count) proxied requests over \(String(format: "%.1f", seconds)) s with 2 s tokens → \(fetches) token fetches"
        )
        #expect(statuses.count == 10_000)
        #expect(statuses.allSatisfy { $0 == 200 })
        // Refresh is due 1.0-1.2 s before expiry of a 2 s token: one fetch every 0.8-1.0 s. A loaded
        // machine may run the refresher late, but no token serves past its 2 s life: at least that.
        #expect(fetches >= Int(seconds / 2.0) - 1)
        #expect(fetches <= Int(seconds / 0.8) + 2)
        let upstream = peer.upstreamRequests
        #expect(upstream.count == 10_000)
        let distinctTokens = Set(upstream.compactMap { $0.header("Authorization") })
        #expect(distinctTokens.count <= fetches + 1)
        for request in upstream {
            let claims = jwtClaims(String(request.header("Authorization")?.dropFirst("Bearer ".count) ?? ""))
            // `exp` has whole-second granularity (the dev issuer floors `iat`), and `receivedAt` is
            // when the peer got to the request, which lags Tollgate's send by up to seconds when the
            // whole suite shares 2 cores. A token past its expiry by more than that was sent expired.
            #expect(Double(claims["exp"] as? Int ?? 0) + 3 >= request.receivedAt)
        }
    }
}
