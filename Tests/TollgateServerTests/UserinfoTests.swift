import Foundation
import Hummingbird
import NIOCore
import Testing
@testable import TollgateDevIssuer
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// Seed 003's userinfo step: once per cache miss, cached with the decision, on every front end.
@Suite("userinfo enrichment")
struct UserinfoTests {
    static func withUserinfo(_ adjust: @escaping (inout UserinfoConfig) -> Void = { _ in }) -> (inout TollgateConfig) -> Void {
        { config in
            config.inbound.issuers[0].userinfo.enabled = true
            adjust(&config.inbound.issuers[0].userinfo)
            config.forwardAuth.claimsToHeaders = ["sub": "X-Auth-Subject", "email": "X-Auth-Email", "name": "X-Auth-Name"]
        }
    }

    @Test func theDevIssuersUserinfoIsAskedOncePerMissAndReachesEveryFrontEnd() async throws {
        try await withRunningTollgate(configured: Self.withUserinfo()) { tg in
            let devIssuer = try #require(tg.app.devIssuer)
            let token = try await tg.token(scope: "read")
            let mockforge = try await tg.authenticate(token)
            #expect(mockforge.authenticated == true)
            let result = mockforge.json["result"] as? [String: Any]
            #expect(result?["user_id"] as? String == "tollgate-dev")
            let claims = mockforge.claims
            #expect(claims["email"] as? String == "tollgate-dev@dev-issuer.invalid")
            #expect(claims["name"] as? String == "Dev client tollgate-dev")
            #expect(claims["scope"] as? String == "read", "the token's own claims stay")
            for _ in 0..<3 {
                let auth = try await tg.get("/auth", headers: [("Authorization", "Bearer " + token)])
                #expect(auth.status == 200)
                #expect(auth.header("X-Auth-Email") == "tollgate-dev@dev-issuer.invalid")
                #expect(auth.header("X-Auth-Name") == "Dev client tollgate-dev")
            }
            #expect(devIssuer.requestCount(.userinfo) == 1, "one call per cache miss, never per request")
            #expect(try await tg.metric(#"tollgate_userinfo_duration_seconds_count{issuer="dev",outcome="ok"}"#) == 1)
            // A second token is a second miss.
            _ = try await tg.authenticate(try await tg.token())
            #expect(devIssuer.requestCount(.userinfo) == 2)
        }
    }

    /// A userinfo server that names another user, or none at all, is never believed.
    final class LyingUserinfo: Sendable {
        let server: TestHTTPServer
        let url: String
        init(server: TestHTTPServer, url: String) { self.server = server; self.url = url }

        static func start(_ body: String) async throws -> LyingUserinfo {
            let port = try await freePort()
            let router = Router()
            router.get("userinfo") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            return LyingUserinfo(server: try await TestHTTPServer.start(router: router, port: port), url: "http://127.0.0.1:\(port)/userinfo")
        }
    }

    @Test(arguments: [#"{"sub":"someone-else","email":"evil@example.org"}"#, #"{"email":"no-sub@example.org"}"#, "not json", "CLOSED"])
    func aFailedUserinfoFollowsOnError(_ answer: String) async throws {
        var endpoint: String
        var lying: LyingUserinfo?
        if answer == "CLOSED" {
            endpoint = "http://127.0.0.1:\(try await freePort())/userinfo"
        } else {
            lying = try await LyingUserinfo.start(answer)
            endpoint = lying!.url
        }
        defer { if let lying { Task { await lying.server.stop() } } }
        let endpointCopy = endpoint
        try await withRunningTollgate(configured: Self.withUserinfo { $0.endpoint = endpointCopy }) { lenient in
            let token = try await lenient.token()
            let served = try await lenient.get("/auth", headers: [("Authorization", "Bearer " + token)])
            #expect(served.status == 200, "on_error: ignore serves the token's own claims")
            #expect(served.header("X-Auth-Email") == nil)
            #expect(served.header("X-Auth-Subject") == "tollgate-dev")
            #expect(lenient.logs.text.contains("userinfo failed"))
            #expect(!lenient.logs.text.contains(token))

            let strict = try await RunningTollgate.start(
                Self.withUserinfo {
                    $0.endpoint = endpointCopy; $0.onError = .indeterminate
                })
            defer { Task { await strict.stop() } }
            let refused = try await strict.get("/auth", headers: [("Authorization", "Bearer " + (try await strict.token()))])
            #expect(refused.status == 503)
            #expect(refused.header("X-Auth-Email") == nil)
        }
    }

    /// The Orthanc plugin's profile `name` comes from userinfo when the token has none.
    @Test func orthancProfilesTakeTheirNameFromUserinfo() async throws {
        let userinfo = try await LyingUserinfo.start(#"{"sub":"user-doctor","name":"Dr Grace Hopper","email":"grace@hospital.example"}"#)
        defer { Task { await userinfo.server.stop() } }
        let forge = TokenForge()
        let tg = try await OrthancPluginHarness.start(forge) { config in
            config.inbound.issuers[0].userinfo.enabled = true
            config.inbound.issuers[0].userinfo.endpoint = userinfo.url
        }
        defer { Task { await tg.stop() } }
        let unnamed = OrthancPluginHarness.user(forge, tg, roles: ["doctor"])
        let profile = try await OrthancPluginHarness.call(
            tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + unnamed, "server-id": nil])
        #expect(profile.status == 200)
        #expect(profile.json["name"] as? String == "Dr Grace Hopper")
        let named = OrthancPluginHarness.user(forge, tg, roles: ["doctor"], claims: ["name": "Ada (from the token)"])
        let own = try await OrthancPluginHarness.call(
            tg, "/user/get-profile", ["token-key": "Authorization", "token-value": "Bearer " + named, "server-id": nil])
        #expect(own.json["name"] as? String == "Ada (from the token)", "the token's own name wins")
    }
}
