import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// Seed 002's connection API (`/oauth/connections`, `/oauth/credentials`), on the admin group.
/// No answer carries a client secret or refresh token; the credentials endpoint alone returns an
/// access token, with `Cache-Control: no-store`.
struct ConnectionsAdapter {
    let connections: RuntimeConnections
    let staticServers: OutboundServers
    let maxBodyBytes: Int

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.post("/oauth/connections") { request, context in
            await answer(request, context, status: .created) { organization in
                let view = try await connections.create(organization: organization, body: try await body(request))
                return (Self.render(view), view.record.generation)
            }
        }
        router.get("/oauth/connections") { request, context in
            await answer(request, context) { organization in
                let runtime = try await connections.list(organization: organization).map(Self.render)
                let configured = staticServers.all.map(Self.render)
                return (JSONText.object([("connections", .raw("[" + (configured + runtime).joined(separator: ",") + "]"))]), nil)
            }
        }
        router.get("/oauth/connections/:name") { request, context in
            await answer(request, context) { organization in
                let view = try await connections.get(organization: organization, name: name(context))
                return (Self.render(view), view.record.generation)
            }
        }
        router.put("/oauth/connections/:name") { request, context in
            await answer(request, context) { organization in
                let view = try await connections.update(organization: organization, name: name(context),
                                                        ifMatch: request.headers[.ifMatch], body: try await body(request))
                return (Self.render(view), view.record.generation)
            }
        }
        router.delete("/oauth/connections/:name") { request, context in
            await answer(request, context, status: .noContent) { organization in
                try await connections.delete(organization: organization, name: name(context))
                return ("", nil)
            }
        }
        router.post("/oauth/connections/:name/test") { request, context in
            await answer(request, context) { organization in
                let started = ContinuousClock.now
                let token = try await connections.credentials(organization: organization, name: name(context), force: true)
                let latency = Int((ContinuousClock.now - started).milliseconds)
                return (JSONText.object([
                    ("connection_name", .string(name(context))), ("status", .string("success")), ("token_acquired", .bool(true)),
                    ("expires_in", .int(token.expiresIn)), ("latency_ms", .int(latency)),
                ]), nil)
            }
        }
        router.post("/oauth/connections/:name/authorize") { request, context in
            await answer(request, context) { organization in
                let start = try await connections.authorize(organization: organization, name: name(context))
                return (JSONText.object([
                    ("authorization_url", .string(start.authorizationURL)), ("redirect_uri", .string(start.redirectURI)),
                    ("expires_at", .string(Self.timestamp(start.expiresAt))),
                ]), nil)
            }
        }
        router.post("/oauth/connections/:name/refresh-token") { request, context in
            await answer(request, context) { organization in
                let view = try await connections.importRefreshToken(organization: organization, name: name(context), body: try await body(request))
                return (Self.render(view), view.record.generation)
            }
        }
        router.get("/oauth/credentials/:name") { request, context in
            await answer(request, context) { organization in
                var minTTL = RuntimeConnections.defaultMinTTLSeconds
                if let raw = request.uri.queryParameters.get("min_ttl") {
                    guard raw.utf8.count <= 6, let value = Int(raw), (0...86400).contains(value) else {
                        throw RegistryError(.invalidRequest, "min_ttl must be a number of seconds, 0–86400")
                    }
                    minTTL = value
                }
                let token = try await connections.credentials(organization: organization, name: name(context), minTTL: minTTL)
                return (JSONText.object([
                    ("access_token", .string(token.accessToken)), ("token_type", .string("Bearer")),
                    ("expires_in", .int(token.expiresIn)), ("expires_at", .string(Self.timestamp(token.expiresAt))),
                    ("scope", token.scope.map { .string($0) } ?? .null),
                ]), nil)
            }
        }
        router.post("/oauth/connections/:name/dependencies") { request, context in
            await answer(request, context, status: .created) { organization in
                let dependency = try await connections.addDependency(organization: organization, name: name(context), body: try await body(request))
                return (Self.render(dependency), nil)
            }
        }
        router.get("/oauth/connections/:name/dependencies") { request, context in
            await answer(request, context) { organization in
                let listed = try await connections.dependencies(organization: organization, name: name(context)).map(Self.render)
                return (JSONText.object([("dependencies", .raw("[" + listed.joined(separator: ",") + "]"))]), nil)
            }
        }
        router.delete("/oauth/connections/:name/dependencies/:dependent") { request, context in
            await answer(request, context, status: .noContent) { organization in
                try await connections.removeDependency(organization: organization, name: name(context),
                                                       dependentID: context.parameters.get("dependent") ?? "")
                return ("", nil)
            }
        }
    }

    /// The IdP's redirect back. Not behind `admin.auth_mode`: the browser brings no admin
    /// credentials, and the single-use state is the protection.
    func registerCallback(on router: some RouterMethods<TollgateRequestContext>) {
        router.get("/oauth/callback/:name") { request, context in
            var parameters: [String: String] = [:]
            for key in ["state", "code", "iss", "error"] {
                if let value = request.uri.queryParameters.get(key) { parameters[key] = value }
            }
            do {
                let view = try await connections.callback(name: name(context), parameters: parameters)
                return Reply.json(JSONText.object([
                    ("connection_name", .string(view.record.name)), ("organization", .string(view.record.organization)),
                    ("status", .string(view.record.status.rawValue)),
                ]), headers: [.cacheControl: "no-store", .referrerPolicy: "no-referrer"])
            } catch {
                return Self.refusal(RegistryError.of(error), requestID: context.requestID)
            }
        }
    }

    private func name(_ context: TollgateRequestContext) -> String { context.parameters.get("name") ?? "" }

    private func body(_ request: Request) async throws -> Data {
        do {
            return Data(try await request.collectBody(limit: maxBodyBytes).readableBytesView)
        } catch .tooLarge {
            throw RegistryError(.invalidRequest, "request body exceeds \(maxBodyBytes) bytes")
        } catch {
            throw RegistryError(.invalidRequest, "request body unreadable")
        }
    }

    /// Runs one operation for the caller's organisation and renders its answer or its refusal.
    /// A generation becomes the `ETag`.
    private func answer(_ request: Request, _ context: TollgateRequestContext, status: HTTPResponse.Status = .ok,
                        _ operation: (String) async throws -> (String, Int?)) async -> Response {
        let organization: String
        do {
            organization = try RuntimeConnections.organization(header: request.headers[.xOrganizationID])
            let (body, generation) = try await operation(organization)
            var headers: HTTPFields = [.cacheControl: "no-store"]
            if let generation { headers[.eTag] = "\"\(generation)\"" }
            if status == .noContent { return Response(status: .noContent, headers: headers) }
            return Reply.json(body, status: status, headers: headers)
        } catch {
            return Self.refusal(RegistryError.of(error), requestID: context.requestID)
        }
    }


    static func refusal(_ error: RegistryError, requestID: String) -> Response {
        let status: HTTPResponse.Status = switch error.code {
        case .invalidRequest, .unsupportedFlow, .invalidState, .issuerMismatch, .authorizationDenied, .secretRequired: .badRequest
        case .notFound: .notFound
        case .exists, .reserved, .inUse, .notConnected, .reauthorizationRequired: .conflict
        case .preconditionRequired: .preconditionRequired
        case .generationMismatch: .preconditionFailed
        case .tokenUnavailable, .storeUnavailable: .serviceUnavailable
        }
        let headers: HTTPFields = status == .serviceUnavailable ? [.retryAfter: "5"] : [:]
        return OutboundErrorReply.response(error.code.rawValue, error.message, status: status, requestID: requestID, headers: headers)
    }

    static func render(_ view: ConnectionView) -> String {
        let record = view.record, settings = view.settings
        func optional(_ value: String?) -> JSONText.Value { value.map { .string($0) } ?? .null }
        return JSONText.object([
            ("connection_name", .string(record.name)), ("organization", .string(record.organization)),
            ("oauth_flow_type", .string(record.flow.rawValue)), ("client_id", .string(settings.clientID)),
            ("token_url", .string(URLRedaction.redacted(settings.tokenURL))),
            ("authorization_url", optional(settings.authorizationURL.map(URLRedaction.redacted))),
            ("scopes", .string(settings.scopes)), ("auth_method", .string(settings.authMethod.rawValue)), ("resource", optional(settings.resource)),
            ("url", optional(settings.url.map(URLRedaction.redacted))),
            ("orthanc_push", settings.orthancPush.map { push in
                .raw(JSONText.object([("name", .string(push.name)), ("extra", .raw(JSONValue.object(push.extra).rendered))]))
            } ?? .null),
            ("redirect_uri", optional(view.redirectURI)), ("issuer", optional(settings.issuer)),
            ("has_client_secret", .bool(view.hasClientSecret)), ("has_refresh_token", .bool(view.hasRefreshToken)),
            ("status", .string(record.status.rawValue)), ("status_message", optional(record.statusMessage)),
            ("generation", .int(record.generation)), ("expires_at", optional(record.expiresAt.map(timestamp))),
            ("last_refresh_at", optional(record.lastRefreshAt.map(timestamp))),
            ("created_at", .string(timestamp(record.createdAt))), ("updated_at", .string(timestamp(record.updatedAt))),
            ("read_only", .bool(false)),
        ])
    }

    /// A configured `outbound.servers` entry: listed, never changed through this API.
    static func render(_ server: OutboundServer) -> String {
        let status = server.status
        return JSONText.object([
            ("connection_name", .string(server.name)), ("organization", .null), ("oauth_flow_type", .string("client_credentials")),
            ("url", .string(status.url)), ("token_endpoint_host", .string(status.tokenEndpointHost)),
            ("status", .string(status.tokenValid ? "completed" : "not_connected")), ("read_only", .bool(true)),
        ])
    }

    static func render(_ dependency: ConnectionDependency) -> String {
        JSONText.object([("dependent_id", .string(dependency.dependentID)), ("dependent_name", .string(dependency.dependentName)),
                         ("created_at", .string(timestamp(dependency.createdAt)))])
    }

    static func timestamp(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds.isFinite ? seconds : 0).formatted(.iso8601)
    }
}

extension HTTPField.Name {
    static let xOrganizationID = Self("X-Organization-Id")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
