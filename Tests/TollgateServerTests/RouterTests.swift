import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TollgateConfiguration
import TollgateKit
import TollgateRegistry
@testable import TollgateServer

/// The router without sockets (HummingbirdTesting's `.router` mode): routes, guards and wire
/// formats that need no IdP round trip. Background work never starts here, because no server
/// ever listens.
@Suite("router without sockets")
struct RouterTests {
    static let apiKey = "router-test-api-key-0123456789"

    /// Runs `test` against the router of a Tollgate built from the dev config (plus one outbound server).
    static func withRouter(
        _ adjust: (inout TollgateConfig) -> Void = { _ in },
        _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try await TollgateApp(
            config: devConfig(port: 8080) { config in
                config.outbound.servers = [
                    "peer": OutboundServerConfig(
                        url: "http://127.0.0.1:9/dicom-web", tokenEndpoint: "http://127.0.0.1:9/token", clientID: "c", clientSecret: "s")
                ]
                config.admin = AdminConfig(authMode: .apiKey, apiKeys: [apiKey])
                adjust(&config)
            }, clock: ManualClock(), logger: LogCapture().logger())
        do {
            try await app.buildApplication().test(.router, test)
        } catch {
            await app.shutdownClients()
            throw error
        }
        await app.shutdownClients()
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    @Test func probesAnswerAndEchoRequestIDs() async throws {
        try await Self.withRouter { client in
            try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "router-1"]) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["status"] as? String == "healthy")
                #expect(response.headers[HTTPField.Name("X-Request-Id")!] == "router-1")
            }
            // Nothing has been reached: no listener, so no issuer bring-up and no token refresh.
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect((Self.json(response.body)["reasons"] as? [String])?.isEmpty == false)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("tollgate_cache_entries 0"))
            }
        }
    }

    /// RFC 9110: a served path asked with another method is 405 with `Allow`, HEAD follows GET, and an
    /// unknown path stays 404.
    @Test func otherMethodsOnAServedPathAre405WithAllow() async throws {
        try await Self.withRouter { client in
            for (uri, method, allow) in [
                ("/health", HTTPRequest.Method.put, "GET, HEAD"), ("/plugin/authenticate", .get, "POST"),
                ("/tokens/validate", .get, "POST"),
                ("/metrics", .post, "GET, HEAD"), ("/health", .trace, "GET, HEAD"),
                ("/settings/roles", HTTPRequest.Method("QUERY")!, "GET, HEAD, PUT"),
            ] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                }
            }
            try await client.execute(uri: "/health", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/no/such/path", method: .patch) { response in
                #expect(response.status == .notFound)
            }
            // Every method the proxy forwards stays the proxy's (here: the admin guard's 401).
            try await client.execute(uri: "/proxy/peer/studies", method: .patch) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func adminGroupRefusesEveryRouteWithoutTheKey() async throws {
        try await Self.withRouter { client in
            for (uri, method) in [
                ("/token/peer", HTTPRequest.Method.get), ("/token", .get), ("/token/clear", .post),
                ("/dicomweb-oauth/servers", .get), ("/dicomweb-oauth/status", .get),
                ("/dicomweb-oauth/servers/peer/test", .post), ("/proxy/peer/studies", .get), ("/proxy/peer", .delete),
            ] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .unauthorized, "\(method) \(uri)")
                    #expect(Self.json(response.body)["error"] as? String == "INVALID_API_KEY", "\(method) \(uri)")
                }
                try await client.execute(uri: uri, method: method, headers: [HTTPField.Name("X-API-Key")!: "wrong-key-0123456789"]) { response in
                    #expect(response.status == .unauthorized, "\(method) \(uri)")
                }
            }
            // With the key the handler runs: an unknown server is the handler's own 404.
            try await client.execute(uri: "/proxy/nobody/x", method: .get, headers: [HTTPField.Name("X-API-Key")!: Self.apiKey]) { response in
                #expect(response.status == .notFound)
                #expect(Self.json(response.body)["error"] as? String == "ENDPOINT_NOT_FOUND")
            }
            try await client.execute(uri: "/dicomweb-oauth/status", method: .get, headers: [HTTPField.Name("X-API-Key")!: Self.apiKey]) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["servers"] as? [String] == ["peer"])
            }
        }
    }

    @Test func inboundRoutesRefuseMissingCredentialsInTheirOwnFormats() async throws {
        try await Self.withRouter { client in
            try await client.execute(uri: "/auth", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="tollgate""#)
            }
            try await client.execute(uri: "/auth/some/route", method: .post, headers: [.authorization: "Bearer a b"]) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/plugin/authenticate", method: .post, body: ByteBuffer(string: "not json")) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["success"] as? Bool == false)
            }
            try await client.execute(uri: "/plugin/authenticate", method: .post, body: ByteBuffer(string: #"{"credentials":{"type":"basic","token":"x"}}"#)) {
                response in
                #expect(response.status == .ok)
                #expect((Self.json(response.body)["result"] as? [String: Any])?["authenticated"] as? Bool == false)
            }
            try await client.execute(uri: "/tokens/validate", method: .post, body: ByteBuffer(string: #"{"level":"study"}"#)) { response in
                #expect(response.status == .unauthorized, "the Orthanc routes are closed until credentials are configured")
            }
        }
    }

    @Test func orthancWebServiceCredentialsAreCheckedBeforeTheBody() async throws {
        try await Self.withRouter({
            $0.orthanc.webserviceUsername = "orthanc"
            $0.orthanc.webservicePassword = Secret("web service password")
        }) { client in
            try await client.execute(uri: "/tokens/validate", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == #"Basic realm="tollgate-orthanc""#)
            }
            let basic = BasicAuthorization.value(user: "orthanc", password: "web service password")
            try await client.execute(
                uri: "/tokens/validate", method: .post, headers: [.authorization: basic],
                body: ByteBuffer(string: #"{"method":"get","level":"system","uri":"/"}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["granted"] as? Bool == false)
            }
            try await client.execute(
                uri: "/tokens/validate", method: .post, headers: [.authorization: basic],
                body: ByteBuffer(string: #"{"level":"study"}"#)
            ) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    /// Each adapter's own wire errors, without a socket: bodies refused in the caller's format.
    @Test func adaptersRefuseBadBodiesInTheirOwnFormats() async throws {
        try await Self.withRouter({
            $0.orthanc.webserviceUsername = "orthanc"
            $0.orthanc.webservicePassword = Secret("web service password")
        }) { client in
            let basic: HTTPFields = [.authorization: BasicAuthorization.value(user: "orthanc", password: "web service password")]
            // MockForge: a member of the wrong type is named.
            try await client.execute(
                uri: "/plugin/authenticate", method: .post, body: ByteBuffer(string: #"{"context":null,"credentials":"x"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["error"] as? String == "field credentials has the wrong type")
            }
            // The plugin's bodies are read strictly: a repeated member is refused, not resolved.
            try await client.execute(
                uri: "/tokens/validate", method: .post, headers: basic,
                body: ByteBuffer(string: #"{"method":"get","level":"study","level":"system","dicom-uid":"1.2"}"#)
            ) { response in
                #expect(response.status == .badRequest)
            }
            // No token: anonymous profile, and decode knows nothing.
            try await client.execute(uri: "/user/get-profile", method: .post, headers: basic, body: ByteBuffer(string: #"{"token-key":"","token-value":""}"#)) {
                response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["permissions"] != nil)
            }
            try await client.execute(uri: "/tokens/decode", method: .post, headers: basic, body: ByteBuffer(string: "{}")) { response in
                #expect(String(buffer: response.body) == #"{"error-code":"unknown","resources":[]}"#)
            }
            // The 1.10 filter: a relative URI is refused.
            try await client.execute(
                uri: "/orthanc/authorize", method: .post, headers: basic, body: ByteBuffer(string: #"{"method":"GET","uri":"studies"}"#)
            ) { response in
                #expect(response.status == .badRequest)
            }
            // Cache eviction: exactly one of token or sha256.
            let key: HTTPFields = [HTTPField.Name("X-API-Key")!: Self.apiKey]
            for body in [#"{"token":"a","sha256":"b"}"#, #"{"sha256":"not-hex"}"#, #"{"token":"a","token":"b"}"#, "[]"] {
                try await client.execute(uri: "/admin/cache/evict", method: .post, headers: key, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(Self.json(response.body)["error"] as? String == "INVALID_REQUEST")
                }
            }
            try await client.execute(uri: "/admin/cache/evict", method: .post, headers: key, body: ByteBuffer(string: #"{"token":"abc"}"#)) {
                response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["evicted"] as? Bool == false)
            }
        }
    }

    /// Audit defect 6: the status API showed an outbound URL's password as configured.
    @Test func statusAPIRedactsCredentialsInsideURLs() async throws {
        try await Self.withRouter({
            $0.outbound.servers["peer"]?.url = "https://u:url-pass-123@pacs.example/dicom-web"
        }) { client in
            try await client.execute(uri: "/dicomweb-oauth/servers", method: .get, headers: [HTTPField.Name("X-API-Key")!: Self.apiKey]) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(!body.contains("url-pass-123"), "\(body)")
                #expect(body.contains("pacs.example"))
            }
        }
    }
}

/// The adapters the suite above does not reach: the connection API and its callback, the dev
/// issuer, and the outbound token injection, each in its own wire format.
extension RouterTests {
    static let key: HTTPFields = [HTTPField.Name("X-API-Key")!: apiKey]

    static func withRegistry(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await withRouter(
            { config in
                config.registry.enabled = true
                config.registry.store = .memory
                config.registry.callbackBaseURL = "https://tollgate.example"
                config.registry.encryption.keys = [RegistryKeyConfig(id: "k1", key: Secret(RegistryKeyring.generateKeyMaterial()))]
            }, test)
    }

    @Test func connectionAPIAnswersInSeed002sShapeWithETags() async throws {
        try await Self.withRegistry { client in
            let create =
                #"{"connection_name":"pacs","oauth_flow_type":"client_credentials","client_id":"svc","client_secret":"s3cret-value","token_url":"https://idp.example/token"}"#
            var etag = ""
            try await client.execute(uri: "/oauth/connections", method: .post, headers: Self.key, body: ByteBuffer(string: create)) { response in
                #expect(response.status == .created)
                etag = response.headers[.eTag] ?? ""
                #expect(etag == #""1""#)
                #expect(response.headers[.cacheControl] == "no-store")
                let body = Self.json(response.body)
                #expect(body["status"] as? String == "not_connected")
                #expect(body["has_client_secret"] as? Bool == true)
                #expect(!String(buffer: response.body).contains("s3cret-value"))
            }
            // The same name again, in seed 002's other prefix: the same store.
            try await client.execute(uri: "/api/oauth/connections", method: .post, headers: Self.key, body: ByteBuffer(string: create)) { response in
                #expect(response.status == .conflict)
                #expect(Self.json(response.body)["error"] as? String == "CONNECTION_EXISTS")
            }
            for (uri, method, headers, body, status, code) in [
                (
                    "/oauth/connections", HTTPRequest.Method.get, [HTTPField.Name("X-Organization-Id")!: "a b"], "", HTTPResponse.Status.badRequest,
                    "INVALID_REQUEST"
                ),
                ("/oauth/connections", .post, [:], #"{"connection_name":"x","client_sekret":"v"}"#, .badRequest, "INVALID_REQUEST"),
                ("/oauth/connections/pacs", .put, [.ifMatch: "soon"], #"{"description":"d"}"#, .badRequest, "INVALID_REQUEST"),
                ("/oauth/connections/pacs", .put, [.ifMatch: #""7""#], #"{"description":"d"}"#, .preconditionFailed, "GENERATION_MISMATCH"),
                ("/oauth/connections/pacs", .put, [:], #"{"token_url":"https://elsewhere.example/token"}"#, .badRequest, "SECRET_REQUIRED"),
                ("/oauth/connections/nobody", .get, [:], "", .notFound, "CONNECTION_NOT_FOUND"),
                ("/oauth/connections/pacs/dependencies", .post, [:], #"{"dependent_id":"a","workflow_id":"b"}"#, .badRequest, "INVALID_REQUEST"),
                ("/oauth/connections/pacs/authorize", .post, [:], "", .badRequest, "UNSUPPORTED_FLOW"),
                ("/oauth/credentials/pacs?min_ttl=99999999", .get, [:], "", .badRequest, "INVALID_REQUEST"),
            ] as [(String, HTTPRequest.Method, HTTPFields, String, HTTPResponse.Status, String)] {
                var fields = Self.key
                fields.append(contentsOf: headers)
                try await client.execute(uri: uri, method: method, headers: fields, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(method) \(uri) \(body)")
                    #expect(Self.json(response.body)["error"] as? String == code, "\(method) \(uri) \(body)")
                    #expect(Self.json(response.body)["request_id"] is String)
                }
            }
            try await client.execute(
                uri: "/oauth/connections/pacs", method: .put, headers: Self.key + [.ifMatch: etag], body: ByteBuffer(string: #"{"description":"The archive"}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] == #""2""#)
                #expect(Self.json(response.body)["description"] as? String == "The archive")
            }
            try await client.execute(uri: "/oauth/connections/pacs", method: .delete, headers: Self.key) { response in
                #expect(response.status == .noContent)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func theCallbackAnswersABrowserWithAPageAndAClientWithJSON() async throws {
        try await Self.withRegistry { client in
            try await client.execute(uri: "/oauth/callback/pacs?state=unknown-state&code=c", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["error"] as? String == "INVALID_STATE")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            try await client.execute(uri: "/oauth/callback/pacs?state=a&state=b", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body).contains("more than once"))
            }
            try await client.execute(
                uri: "/oauth/callback/pacs", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "state=%ZZ")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["error"] as? String == "INVALID_REQUEST")
            }
        }
    }

    @Test func theDevIssuerSpeaksOAuthErrors() async throws {
        try await Self.withRouter { client in
            try await client.execute(uri: "/dev-issuer/.well-known/openid-configuration", method: .get) { response in
                #expect(response.status == .ok)
                #expect((Self.json(response.body)["token_endpoint"] as? String)?.hasSuffix("/dev-issuer/token") == true)
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let basic = form + [.authorization: BasicAuthorization.value(user: "tollgate-dev", password: "tollgate-dev-secret")]
            for (headers, body, status, error) in [
                (basic, "grant_type=client_credentials&scope=read&scope=write", HTTPResponse.Status.badRequest, "invalid_request"),
                (form, "grant_type=client_credentials&client_id=tollgate-dev&client_secret=wrong", .unauthorized, "invalid_client"),
                (basic, "grant_type=password", .badRequest, "unsupported_grant_type"),
                (basic, "grant_type=client_credentials&scope=admin", .badRequest, "invalid_scope"),
            ] as [(HTTPFields, String, HTTPResponse.Status, String)] {
                try await client.execute(uri: "/dev-issuer/token", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    #expect(Self.json(response.body)["error"] as? String == error, "\(body)")
                    #expect(response.headers[.cacheControl] == "no-store", "\(body)")
                }
            }
            try await client.execute(
                uri: "/dev-issuer/token", method: .post, headers: basic, body: ByteBuffer(string: "grant_type=client_credentials&scope=read")
            ) {
                response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["token_type"] as? String == "Bearer")
            }
        }
    }

    @Test func outboundTokenInjectionIsBehindTheAdminCheck() async throws {
        try await Self.withRouter { client in
            try await client.execute(uri: "/auth/outbound/peer", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.json(response.body)["error"] as? String == "INVALID_API_KEY")
                #expect(response.headers[HTTPField.Name("X-Upstream-Authorization")!] == nil)
            }
            try await client.execute(uri: "/auth/outbound/nobody/some/path", method: .get, headers: Self.key) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[HTTPField.Name("X-Upstream-Authorization")!] == nil)
            }
        }
    }
}

extension HTTPFields {
    fileprivate static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var out = lhs
        out.append(contentsOf: rhs)
        return out
    }
}
