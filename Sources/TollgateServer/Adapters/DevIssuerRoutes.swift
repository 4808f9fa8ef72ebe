import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// HTTP face of the embedded dev issuer, under `/dev-issuer`.
struct DevIssuerRoutes {
    let issuer: DevIssuer
    let metrics: TollgateMetrics
    let maxBodyBytes: Int

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        let group = router.group("dev-issuer")
        let discovery = discoveryDocument()
        let metadata: @Sendable (Request, TollgateRequestContext) async throws -> Response = { _, _ in
            count(.discovery)
            return Reply.json(discovery)
        }
        group.get(".well-known/openid-configuration", use: metadata)
        group.get(".well-known/oauth-authorization-server", use: metadata)
        group.get("jwks") { _, _ in
            count(.jwks)
            return Reply.json(issuer.jwksJSON, headers: [.cacheControl: "max-age=300"])
        }
        group.post("token") { request, _ in
            count(.token)
            return await token(request)
        }
        group.post("introspect") { request, _ in
            count(.introspect)
            return await withClient(request) { _, form in
                guard let token = form["token"] else { return Self.oauthError("invalid_request", "token is required", .badRequest) }
                return Reply.json(await issuer.introspect(token), headers: [.cacheControl: "no-store"])
            }
        }
        // OIDC Core §5.3.1: GET and POST, the token as a bearer credential (RFC 6750 §2.1).
        let userinfo: @Sendable (Request, TollgateRequestContext) async throws -> Response = { request, _ in
            count(.userinfo)
            guard case .success(let token) = BearerToken.extract(fromAuthorization: request.headers[values: .authorization]) else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: #"Bearer realm="dev-issuer""#, .cacheControl: "no-store"])
            }
            guard let answer = await issuer.userinfo(token) else {
                return Response(
                    status: .unauthorized,
                    headers: [
                        .wwwAuthenticate: #"Bearer realm="dev-issuer", error="invalid_token""#,
                        .cacheControl: "no-store",
                    ])
            }
            return Reply.json(answer, headers: [.cacheControl: "no-store"])
        }
        group.get("userinfo", use: userinfo)
        group.post("userinfo", use: userinfo)
        group.post("revoke") { request, _ in
            count(.revoke)
            return await withClient(request) { _, form in
                guard let token = form["token"] else { return Self.oauthError("invalid_request", "token is required", .badRequest) }
                await issuer.revoke(token)
                return Response(status: .ok)
            }
        }
    }

    private func count(_ endpoint: DevIssuerEndpoint) {
        issuer.count(endpoint)
        metrics.recordDevIssuer(endpoint)
    }

    private func discoveryDocument() -> String {
        let base = issuer.issuerURL
        return JSONText.object([
            ("issuer", .string(base)),
            ("token_endpoint", .string(base + "/token")),
            ("jwks_uri", .string(base + "/jwks")),
            ("introspection_endpoint", .string(base + "/introspect")),
            ("revocation_endpoint", .string(base + "/revoke")),
            ("userinfo_endpoint", .string(base + "/userinfo")),
            ("grant_types_supported", .strings(["client_credentials"])),
            ("token_endpoint_auth_methods_supported", .strings(["client_secret_basic", "client_secret_post"])),
            ("introspection_endpoint_auth_methods_supported", .strings(["client_secret_basic", "client_secret_post"])),
            ("revocation_endpoint_auth_methods_supported", .strings(["client_secret_basic", "client_secret_post"])),
            ("response_types_supported", .strings(["token"])),
            ("subject_types_supported", .strings(["public"])),
            ("id_token_signing_alg_values_supported", .strings(["RS256"])),
            ("scopes_supported", .strings([])),
        ])
    }

    private func token(_ request: Request) async -> Response {
        await withClient(request) { client, form in
            guard form["grant_type"] == "client_credentials" else {
                return Self.oauthError("unsupported_grant_type", "only client_credentials is supported", .badRequest)
            }
            do {
                let issued = try await issuer.issue(to: client, scope: form["scope"], resource: form["resource"])
                return Reply.json(
                    JSONText.object([
                        ("access_token", .string(issued.accessToken)), ("token_type", .string("Bearer")),
                        ("expires_in", .int(issued.expiresIn)), ("scope", .string(issued.scope)),
                    ]),
                    headers: [.cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache"]
                )
            } catch DevIssuer.TokenError.invalidScope {
                return Self.oauthError("invalid_scope", "requested scope exceeds the client's scopes", .badRequest)
            } catch DevIssuer.TokenError.invalidTarget {
                return Self.oauthError("invalid_target", "resource must be an absolute URI without fragment", .badRequest)
            } catch {
                return Self.oauthError("server_error", "could not sign the token", .internalServerError)
            }
        }
    }

    /// Reads the form body, authenticates the client (Basic or form fields, never both) and runs `body`.
    private func withClient(
        _ request: Request, _ body: (DevClientConfig, [String: String]) async -> Response
    ) async -> Response {
        guard let buffer = try? await request.collectBody(limit: maxBodyBytes),
            let text = String(validating: buffer.readableBytesView, as: UTF8.self),
            var form = FormEncoding.parse(text)
        else {
            return Self.oauthError("invalid_request", "body must be application/x-www-form-urlencoded", .badRequest)
        }
        let basic = request.headers[.authorization].flatMap(Self.basicCredentials)
        let posted = form["client_id"].map { ($0, form["client_secret"] ?? "") }
        if basic != nil && posted != nil {
            return Self.oauthError("invalid_request", "use one client authentication method", .badRequest)
        }
        guard let (id, secret) = basic ?? posted, let client = issuer.authenticate(clientID: id, secret: secret) else {
            var headers: HTTPFields = [.cacheControl: "no-store"]
            if basic != nil || request.headers[.authorization] != nil { headers[.wwwAuthenticate] = #"Basic realm="dev-issuer""# }
            return Self.oauthError("invalid_client", "client authentication failed", .unauthorized, headers: headers)
        }
        form["client_secret"] = nil
        return await body(client, form)
    }

    /// `Basic base64(form(id):form(secret))` per RFC 6749 §2.3.1.
    static func basicCredentials(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":"),
            let id = FormEncoding.decode(String(decoded[..<colon])),
            let secret = FormEncoding.decode(String(decoded[decoded.index(after: colon)...]))
        else { return nil }
        return (id, secret)
    }

    static func oauthError(_ code: String, _ description: String, _ status: HTTPResponse.Status, headers: HTTPFields = [.cacheControl: "no-store"]) -> Response
    {
        Reply.json(JSONText.object([("error", .string(code)), ("error_description", .string(description))]), status: status, headers: headers)
    }
}
