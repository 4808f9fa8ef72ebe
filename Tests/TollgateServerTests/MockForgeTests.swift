import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// End to end over loopback: MockForge's `POST /plugin/authenticate` against the embedded dev issuer.
@Suite("MockForge front-end with the dev issuer")
struct MockForgeTests {
    @Test func happyPathReturnsClaimsAndUserID() async throws {
        try await withRunningTollgate { tg in
            let token = try await tg.token(scope: "read")
            let answer = try await tg.authenticate(token)
            #expect(answer.status == 200)
            #expect(answer.json["success"] as? Bool == true)
            #expect(answer.authenticated == true)
            let result = answer.json["result"] as? [String: Any]
            #expect(result?["user_id"] as? String == "tollgate-dev")
            let claims = answer.claims
            #expect(claims["scope"] as? String == "read")
            #expect(claims["client_id"] as? String == "tollgate-dev")
            #expect(claims["sub"] as? String == "tollgate-dev")
            #expect(claims["iss"] as? String == tg.app.devIssuer!.issuerURL)
            #expect(claims["exp"] as? Int == Int(tg.clock.now()) + 3600)
            #expect(claims["iat"] as? Int != nil)
            #expect(answer.header("X-Request-Id") != nil)
            #expect(!tg.logs.text.contains(token))
        }
    }

    @Test func tokenFromContextHeadersWithAnyCaseHeaderName() async throws {
        try await withRunningTollgate { tg in
            let token = try await tg.token()
            let answer = try await tg.post(
                "/plugin/authenticate", json: #"{"context":{"method":"GET","uri":"/","headers":{"AUTHORIZATION":"bearer \#(token)"}}}"#)
            #expect(answer.authenticated == true)
            let missing = try await tg.post("/plugin/authenticate", json: #"{"context":{"method":"GET","uri":"/","headers":{}}}"#)
            #expect(missing.authenticated == false)
            #expect(missing.refusal == "Missing token")
            let basic = try await tg.post("/plugin/authenticate", json: #"{"context":{"headers":{"Authorization":"Basic dXNlcjpwdw=="}}}"#)
            #expect(basic.refusal == "Unsupported credential type")
        }
    }

    @Test func inactiveTokenIsRefusedWithoutEchoingIt() async throws {
        try await withRunningTollgate { tg in
            let forged = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdHRhY2tlciJ9.Zm9yZ2Vk"
            let answer = try await tg.authenticate(forged)
            #expect(answer.status == 200)
            #expect(answer.authenticated == false)
            #expect(answer.refusal == "Token is not active")
            #expect((answer.json["result"] as? [String: Any])?["user_id"] as? String == "")
            #expect(!answer.body.contains(forged))
            #expect(!tg.logs.text.contains(forged))
        }
    }

    @Test func expiredTokenIsRefusedOnceTheClockPassesExp() async throws {
        try await withRunningTollgate(configured: { $0.devIssuer.tokenTTLSeconds = 120 }) { tg in
            let token = try await tg.token()
            #expect(try await tg.authenticate(token).authenticated == true)
            tg.clock.advance(by: 121 + 30)  // past exp plus leeway: the cached entry died at exp
            let answer = try await tg.authenticate(token)
            #expect(answer.authenticated == false)
            #expect(["Token has expired", "Token is not active"].contains(answer.refusal ?? ""))
        }
    }

    @Test func revokedTokenStaysCachedUntilPositiveTTLThenNegativeTTLApplies() async throws {
        let tg = try await RunningTollgate.start {
            $0.inbound.cache.maxTTLSeconds = 60
            $0.inbound.cache.negativeTTLSeconds = 10
        }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        let before = tg.introspections
        #expect(try await tg.authenticate(token).authenticated == true)
        #expect(tg.introspections == before + 1)

        let revoke = try await tg.post(
            "/dev-issuer/revoke", body: Array("token=\(token)&client_id=tollgate-dev&client_secret=tollgate-dev-secret".utf8),
            headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(revoke.status == 200)

        tg.clock.advance(by: 59)
        #expect(try await tg.authenticate(token).authenticated == true)  // still the positive entry
        #expect(tg.introspections == before + 1)

        tg.clock.advance(by: 2)  // positive TTL over: asks again, learns it is revoked
        let refused = try await tg.authenticate(token)
        #expect(refused.refusal == "Token is not active")
        #expect(tg.introspections == before + 2)

        tg.clock.advance(by: 9)
        #expect(try await tg.authenticate(token).authenticated == false)  // negative entry
        #expect(tg.introspections == before + 2)
        tg.clock.advance(by: 2)
        #expect(try await tg.authenticate(token).authenticated == false)
        #expect(tg.introspections == before + 3)
    }

    @Test func audienceRefusalIsReappliedOnCachedEntries() async throws {
        try await withRunningTollgate(configured: { $0.inbound.issuers[0].audiences = ["https://orthanc.example/dicom-web"] }) { tg in
            let good = try await tg.token(resource: "https://orthanc.example/dicom-web")
            let other = try await tg.token()
            #expect(try await tg.authenticate(good).authenticated == true)
            let before = tg.introspections
            for _ in 0..<3 {
                let answer = try await tg.authenticate(other)
                #expect(answer.authenticated == false)
                #expect(answer.refusal == "Token audience is not accepted")
            }
            #expect(tg.introspections == before + 1)  // one introspection; the refusal came from the cached entry twice
            #expect(try await tg.authenticate(good).authenticated == true)
        }
    }

    @Test func scopeRefusalIsReappliedOnCachedEntries() async throws {
        try await withRunningTollgate(configured: { $0.inbound.issuers[0].requiredScopes = ["write"] }) { tg in
            let reader = try await tg.token(client: "reader", secret: "reader secret&=+")
            let before = tg.introspections
            for _ in 0..<3 {
                let answer = try await tg.authenticate(reader)
                #expect(answer.authenticated == false)
                #expect(answer.refusal == "Token lacks a required scope: write")
            }
            #expect(tg.introspections == before + 1)
            #expect(try await tg.authenticate(try await tg.token(scope: "read write")).authenticated == true)
        }
    }

    @Test func concurrentMissesForOneTokenMakeOneIntrospection() async throws {
        try await withRunningTollgate { tg in
            let token = try await tg.token()
            let before = tg.introspections
            let results = try await withThrowingTaskGroup(of: Bool?.self) { group in
                for _ in 0..<200 { group.addTask { try await tg.authenticate(token).authenticated } }
                return try await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
            #expect(results.count == 200)
            #expect(results.allSatisfy { $0 == true })
            #expect(tg.introspections == before + 1)
            #expect(try await tg.metric("tollgate_cache_misses_total") == 1)
        }
    }

    @Test func cacheEvictsAtMaxEntries() async throws {
        try await withRunningTollgate(configured: { $0.inbound.cache.maxEntries = 3 }) { tg in
            var tokens: [String] = []
            for _ in 0..<5 { tokens.append(try await tg.token()) }
            for token in tokens { #expect(try await tg.authenticate(token).authenticated == true) }
            #expect(tg.app.authenticator.cache.count == 3)
            #expect(try await tg.metric("tollgate_cache_evictions_total") == 2)
            let before = tg.introspections
            #expect(try await tg.authenticate(tokens[0]).authenticated == true)  // evicted: asked again
            #expect(tg.introspections == before + 1)
        }
    }

    @Test func shapeBIsAnsweredInItsOwnFormat() async throws {
        try await withRunningTollgate { tg in
            let answer = try await tg.post(
                "/plugin/authenticate",
                json:
                    #"{"context":{"plugin_id":"auth","version":{"major":1,"minor":0,"patch":0},"timeout_ms":5000,"request_id":"r1"},"method":"GET","uri":"/api","query_params":{},"client_ip":"127.0.0.1","user_agent":"x"}"#
            )
            #expect(answer.status == 200)
            #expect(answer.json["authenticated"] as? Bool == false)
            #expect(answer.json["error_message"] as? String == "no credentials")
            #expect(answer.json["success"] == nil)
        }
    }

    /// Shape B carries no headers; an `access_token` in its `query_params` is its credential.
    @Test func shapeBTakesTheAccessTokenFromItsQueryParams() async throws {
        try await withRunningTollgate { tg in
            let token = try await tg.token()
            func shapeB(_ query: String) -> String {
                #"{"context":{"plugin_id":"auth","version":{"major":1,"minor":0,"patch":0},"timeout_ms":5000,"request_id":"r2"},"method":"GET","uri":"/api","query_params":\#(query),"client_ip":"127.0.0.1","user_agent":"x"}"#
            }
            let accepted = try await tg.post("/plugin/authenticate", json: shapeB(#"{"access_token":"\#(token)"}"#))
            #expect(accepted.status == 200)
            #expect(accepted.json["authenticated"] as? Bool == true)
            #expect((accepted.json["identity"] as? [String: Any])?["user_id"] as? String == "tollgate-dev")
            #expect((accepted.json["claims"] as? [String: Any])?["scope"] as? String == "read write")
            #expect(accepted.json["error_message"] is NSNull)
            let refused = try await tg.post("/plugin/authenticate", json: shapeB(#"{"access_token":"not-a-live-token"}"#))
            #expect(refused.status == 200)
            #expect(refused.json["authenticated"] as? Bool == false)
            #expect(refused.json["identity"] is NSNull)
            #expect(refused.json["error_message"] as? String == "Token is not active")
            #expect(!refused.body.contains("not-a-live-token"))
            #expect(!tg.logs.text.contains(token))
        }
    }

    @Test func healthReadyMetricsAndRequestIDs() async throws {
        try await withRunningTollgate { tg in
            let health = try await tg.get("/health", headers: [("X-Request-Id", "trace-123")])
            #expect(health.json["status"] as? String == "healthy")
            #expect(health.json["plugin"] as? String == "tollgate")
            #expect(health.json["version"] as? String == TollgateApp.version)
            #expect(health.header("X-Request-Id") == "trace-123")
            let hostile = try await tg.get("/health", headers: [("X-Request-Id", String(repeating: "x", count: 500))])
            #expect(hostile.header("X-Request-Id")?.count == 36)
            #expect(try await tg.get("/ready").status == 200)

            let token = try await tg.token()
            _ = try await tg.authenticate(token)
            _ = try await tg.authenticate("not-a-real-token")
            let metrics = try await tg.get("/metrics").body
            #expect(metrics.contains(#"tollgate_decisions_total{result="allowed",reason="ok",issuer="dev"} 1"#))
            #expect(metrics.contains(#"tollgate_decisions_total{result="denied",reason="inactive",issuer="dev"} 1"#))
            #expect(metrics.contains(#"tollgate_http_request_duration_seconds_count{route="/plugin/authenticate",method="POST",status="200"} 2"#))
            #expect(metrics.contains("tollgate_introspection_duration_seconds_bucket"))
            #expect(metrics.contains("tollgate_cache_entries 2"))
            #expect(!metrics.contains(token))
            #expect(!metrics.contains("tollgate-dev\""))  // no client id label
        }
    }
}
