import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// `--mockforge-plugin-env` end to end: discovery first, seed 003's `/oauth/introspect` second.
@Suite("seed 003 migration against real endpoints")
struct MockForgePluginMigrationServerTests {
    /// An authorization server as seed 003 assumes one: `/oauth/introspect` with Basic credentials, no discovery.
    final class PlainIntrospector: Sendable {
        let port: Int
        let server: TestHTTPServer
        private let calls = Mutex(0)
        var introspections: Int { calls.withLock { $0 } }

        init(port: Int, server: TestHTTPServer) { self.port = port; self.server = server }

        static func start() async throws -> PlainIntrospector {
            let port = try await freePort()
            let router = Router()
            let box = Mutex<PlainIntrospector?>(nil)
            router.post("oauth/introspect") { request, _ -> Response in
                box.withLock { $0 }?.calls.withLock { $0 += 1 }
                let expected = "Basic " + Data("mockforge:plugin-secret".utf8).base64EncodedString()
                guard request.headers[.authorization] == expected else { return Response(status: .unauthorized) }
                let form = FormEncoding.parse(String(buffer: try await request.body.collect(upTo: 4096))) ?? [:]
                let active = form["token"] == "opaque-good-token"
                let body =
                    active
                    ? #"{"active":true,"sub":"alice","client_id":"mockforge-client","scope":"read","exp":\#(Int(Date().timeIntervalSince1970) + 300)}"#
                    : #"{"active":false}"#
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            let introspector = PlainIntrospector(port: port, server: try await TestHTTPServer.start(router: router, port: port))
            box.withLock { $0 = introspector }
            return introspector
        }
    }

    @Test func withoutDiscoveryTheSeedsIntrospectPathIsUsed() async throws {
        let idp = try await PlainIntrospector.start()
        defer { Task { await idp.server.stop() } }
        let tg = try await RunningTollgate.start { config in
            try! MockForgePluginMigration.apply(
                environment: [
                    "AUTH_SERVER_URL": "http://127.0.0.1:\(idp.port)", "OAUTH_CLIENT_SECRET": "plugin-secret",
                ], to: &config)
        }
        defer { Task { await tg.stop() } }
        let good = try await tg.authenticate("opaque-good-token")
        #expect(good.authenticated == true)
        #expect((good.json["result"] as? [String: Any])?["user_id"] as? String == "alice")
        let bad = try await tg.authenticate("opaque-revoked-token")
        #expect(bad.authenticated == false)
        #expect(idp.introspections >= 2)
        #expect(try await tg.get("/dev-issuer/.well-known/openid-configuration").status == 404, "the dev issuer is off")
    }

    @Test func discoveryIsTriedFirst() async throws {
        // Another Tollgate's embedded dev issuer stands in for an authorization server with discovery
        // (its introspection endpoint is not at /oauth/introspect, so only discovery can find it).
        try await withRunningTollgate { idp in
            let token = try await idp.token(scope: "read")
            let tg = try await RunningTollgate.start { config in
                try! MockForgePluginMigration.apply(
                    environment: [
                        "AUTH_SERVER_URL": idp.base + "/dev-issuer", "OAUTH_CLIENT_ID": "tollgate-dev", "OAUTH_CLIENT_SECRET": "tollgate-dev-secret",
                    ], to: &config)
            }
            defer { Task { await tg.stop() } }
            let answer = try await tg.authenticate(token)
            #expect(answer.authenticated == true)
            #expect((answer.json["result"] as? [String: Any])?["user_id"] as? String == "tollgate-dev")
        }
    }
}
