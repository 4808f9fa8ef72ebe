import Foundation
import NIOHTTP1
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// `/auth/outbound/{server}`: the caller's own proxy gets an outbound token in a header.
@Suite("outbound token injection for proxies")
struct OutboundTokenInjectionTests {
    @Test func adminModeHandsTheCurrentTokenOnlyPastTheAdminCheck() async throws {
        let tg = try await OutboundTests.start()
        defer { Task { await tg.stop() } }
        let refused = try await tg.get("/auth/outbound/dev-basic")
        #expect(refused.status == 401)
        #expect(refused.header("X-Upstream-Authorization") == nil)
        for method in [HTTPMethod.GET, .POST, .HEAD] {
            let answer = try await tg.send("/auth/outbound/dev-basic", method: method, headers: apiKeyHeader, body: nil)
            #expect(answer.status == 200, "\(method)")
            let token = try await tg.get("/token/dev-basic", headers: apiKeyHeader).json["access_token"] as? String
            #expect(answer.header("X-Upstream-Authorization") == "Bearer " + (token ?? "-"))
            #expect(answer.header("Cache-Control") == "no-store")
        }
        let unknown = try await tg.get("/auth/outbound/nope", headers: apiKeyHeader)
        #expect(unknown.status == 404)
        #expect(unknown.json["error"] as? String == "ENDPOINT_NOT_FOUND")
        // Envoy's path_prefix appends the original path below the server name.
        let appended = try await tg.send("/auth/outbound/dev-basic/dicom-web/studies?limit=1", method: .GET, headers: apiKeyHeader, body: nil)
        #expect(appended.status == 200)
        #expect(appended.header("X-Upstream-Authorization")?.hasPrefix("Bearer ") == true)
        // Forward auth below /auth is untouched.
        #expect(try await tg.get("/auth/some/path").status == 401)
        #expect(!tg.logs.text.contains("Bearer ey"))
    }

    @Test func noValidTokenIsTheSeed004Answer() async throws {
        let closed = try await freePort()
        let tg = try await OutboundTests.start { config in
            config.outbound.servers["dev-basic"]?.tokenEndpoint = "http://127.0.0.1:\(closed)/token"
            config.outbound.servers["dev-basic"]?.retry.maxAttempts = 1
            config.outbound.readyRequiresTokens = false
        }
        defer { Task { await tg.stop() } }
        let answer = try await tg.get("/auth/outbound/dev-basic", headers: apiKeyHeader)
        #expect(answer.status == 503)
        #expect(["TOKEN_UNAVAILABLE", "CIRCUIT_OPEN"].contains(answer.json["error"] as? String ?? ""))
        #expect(answer.json["request_id"] is String)
        #expect(answer.header("X-Upstream-Authorization") == nil)
    }

    @Test func bearerModeNeedsTheServersScopeAndAnOpenAdminNeverHandsOut() async throws {
        let tg = try await OutboundTests.start { config in
            config.forwardAuth.outboundTokens.auth = .bearer
            config.forwardAuth.outboundTokens.requiredScopes = ["dev-basic": ["write"]]
            config.forwardAuth.outboundTokens.header = "X-Peer-Token"
        }
        defer { Task { await tg.stop() } }
        let writer = try await tg.token(scope: "write")
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        let granted = try await tg.get("/auth/outbound/dev-basic", headers: [("Authorization", "Bearer " + writer)])
        #expect(granted.status == 200)
        #expect(granted.header("X-Peer-Token")?.hasPrefix("Bearer ") == true)
        let lacking = try await tg.get("/auth/outbound/dev-basic", headers: [("Authorization", "Bearer " + reader)])
        #expect(lacking.status == 403)
        #expect(lacking.header("X-Peer-Token") == nil)
        #expect(try await tg.get("/auth/outbound/dev-basic").status == 401)
        #expect(
            try await tg.get("/auth/outbound/dev-post", headers: [("Authorization", "Bearer " + writer)]).status == 403,
            "a server without configured scopes is never handed out")

        let open = try await OutboundTests.start { $0.admin = AdminConfig(authMode: .none) }
        defer { Task { await open.stop() } }
        let answer = try await open.get("/auth/outbound/dev-basic")
        #expect(answer.status == 403)
        #expect(answer.header("X-Upstream-Authorization") == nil)
    }

    @Test func forwardAuthStatusesCanBeChosenForNginx() async throws {
        let closed = try await freePort()
        let tg = try await RunningTollgate.start(waitReady: false) { config in
            config.inbound.issuers[0].introspection?.endpoint = "http://127.0.0.1:\(closed)/introspect"
            config.inbound.issuers[0].discovery = false
            config.forwardAuth.statusOnUnavailable = 401
            config.forwardAuth.statusOnMalformed = 401
        }
        defer { Task { await tg.stop() } }
        let unavailable = try await tg.get("/auth", headers: [("Authorization", "Bearer opaque-token-value")])
        #expect(unavailable.status == 401)
        #expect(unavailable.header("X-Tollgate-Error") == "unavailable")
        #expect(unavailable.header("WWW-Authenticate") == #"Bearer realm="tollgate""#, "no invalid_token: the token was not judged")
        let malformed = try await tg.get("/auth", headers: [("Authorization", "Bearer a b")])
        #expect(malformed.status == 401)
        #expect(malformed.header("WWW-Authenticate")?.contains("invalid_request") == true)

        let defaults = try await RunningTollgate.start(waitReady: false) { config in
            config.inbound.issuers[0].introspection?.endpoint = "http://127.0.0.1:\(closed)/introspect"
            config.inbound.issuers[0].discovery = false
        }
        defer { Task { await defaults.stop() } }
        let plain = try await defaults.get("/auth", headers: [("Authorization", "Bearer opaque-token-value")])
        #expect(plain.status == 503)
        #expect(plain.header("Retry-After") == "5")
    }
}
