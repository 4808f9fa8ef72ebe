import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// A deliberately misbehaving IdP on loopback: discovery works, introspection answers per mode.
final class BrokenIdP: Sendable {
    enum Mode: String, CaseIterable { case html, yes, slow, error, unauthorized }

    let port: Int
    private let server: TestHTTPServer
    /// What `GET /jwks` answers, switchable mid-test.
    let jwks: JWKSBox

    var base: String { "http://127.0.0.1:\(port)" }
    func issuer(_ mode: Mode) -> String { "\(base)/\(mode.rawValue)" }

    private init(port: Int, server: TestHTTPServer, jwks: JWKSBox) {
        self.port = port
        self.server = server
        self.jwks = jwks
    }

    static func start() async throws -> BrokenIdP {
        let port = try await freePort()
        let router = Router()
        let base = "http://127.0.0.1:\(port)"
        let box = JWKSBox()
        router.get("jwks") { _, _ -> Response in
            let (status, body, cacheControl) = box.current
            var headers: HTTPFields = [.contentType: "application/json"]
            if let cacheControl { headers[.cacheControl] = cacheControl }
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("{mode}/.well-known/openid-configuration") { _, context in
            let mode = context.parameters.get("mode")!
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string:
                            #"{"issuer":"\#(base)/\#(mode)","introspection_endpoint":"\#(base)/\#(mode)/introspect"}"#)))
        }
        router.post("{mode}/introspect") { _, context -> Response in
            switch Mode(rawValue: context.parameters.get("mode")!) {
            case .html:
                return Response(
                    status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html><body>Login</body></html>")))
            case .yes:
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"active":"yes"}"#)))
            case .slow:
                try await Task.sleep(for: .milliseconds(1500))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"active":false}"#)))
            case .error: return Response(status: .internalServerError)
            case .unauthorized, nil: return Response(status: .unauthorized)
            }
        }
        let server = try await TestHTTPServer.start(router: router, port: port)
        return BrokenIdP(port: port, server: server, jwks: box)
    }

    func stop() async { await server.stop() }
}

/// An issuer entry pointing at one of the broken IdP's modes.
func brokenIssuer(_ idp: BrokenIdP, _ mode: BrokenIdP.Mode, timeoutMS: Int = 2000) -> IssuerConfig {
    IssuerConfig(
        name: "broken-\(mode.rawValue)", issuer: idp.issuer(mode),
        introspection: IntrospectionConfig(
            clientID: "tollgate", clientSecret: "broken-secret", timeoutMS: timeoutMS))
}

/// The broken IdP's JWKS answer: status, body and Cache-Control, shared by its route and the test.
final class JWKSBox: Sendable {
    private let state = Mutex<(status: Int, body: String, cacheControl: String?)>((500, "", nil))
    var current: (status: Int, body: String, cacheControl: String?) { state.withLock { $0 } }
    func set(status: Int, body: String = "", cacheControl: String? = nil) { state.withLock { $0 = (status, body, cacheControl) } }
}
