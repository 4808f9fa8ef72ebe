import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// Seed 002's connection API on the admin group, under every `registry.api_prefixes` entry
/// (`/oauth` and the seed client's `/api/oauth`). No answer carries a client secret or private
/// key; the credentials endpoint alone returns an access token (and a refresh token only with
/// `registry.expose_refresh_tokens`), with `Cache-Control: no-store`.
struct ConnectionsAdapter {
    let connections: RuntimeConnections
    let staticServers: OutboundServers
    let maxBodyBytes: Int
    let prefixes: [String]
    let exposeRefreshTokens: Bool
    /// The console is on: the browser's result page links back to the connection there.
    var console = false

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        for prefix in prefixes { register(on: router.group(RouterPath(prefix))) }
    }

    private func register(on router: RouterGroup<TollgateRequestContext>) {
        router.post("connections") { request, context in
            await answer(request, context, status: .created, audit: .connectionCreate) { organization in
                let view = try await connections.catalog.create(
                    organization: organization, input: try await body(ConnectionRequest.self, request).input,
                    createdBy: Self.creator(request, context))
                return (Self.render(view), view.record.generation)
            }
        }
        router.get("connections") { request, context in
            await answer(request, context) { organization in
                let includeGlobal = try Self.flag(request.uri.queryParameters.get("include_global"), "include_global", default: true)
                let runtime = try await connections.catalog.list(organization: organization, includeGlobal: includeGlobal).map(Self.render)
                let configured = staticServers.all.map(Self.render)
                let all = configured + runtime
                return (JSONText.object([("connections", .raw("[" + all.joined(separator: ",") + "]")), ("count", .int(all.count))]), nil)
            }
        }
        router.get("connections/:name") { request, context in
            await answer(request, context) { organization in
                let view = try await connections.catalog.get(organization: organization, name: name(context))
                return (Self.render(view), view.record.generation)
            }
        }
        router.put("connections/:name") { request, context in
            await answer(request, context, audit: .connectionUpdate) { organization in
                let view = try await connections.catalog.update(
                    organization: organization, name: name(context),
                    ifMatch: request.headers[.ifMatch], input: try await body(ConnectionRequest.self, request).input)
                return (Self.render(view), view.record.generation)
            }
        }
        router.delete("connections/:name") { request, context in
            await answer(request, context, status: .noContent, audit: .connectionDelete) { organization in
                try await connections.catalog.delete(organization: organization, name: name(context))
                return ("", nil)
            }
        }
        router.post("connections/:name/test") { request, context in
            let started = ContinuousClock.now
            return await answer(request, context, audit: .connectionTest) { organization in
                let result = try await connections.tokens.test(organization: organization, name: name(context))
                let latency = Int((ContinuousClock.now - started).milliseconds)
                return (
                    JSONText.object([
                        ("connection_name", .string(name(context))), ("status", .string("success")), ("test_result", .string("success")),
                        ("message", .string("a new access token was issued")), ("tested_at", .string(Self.timestamp(result.testedAt))),
                        ("token_acquired", .bool(true)), ("expires_in", .int(result.credentials.expiresIn)), ("latency_ms", .int(latency)),
                    ]), nil
                )
            }
        }
        router.post("connections/:name/authorize") { request, context in
            await answer(request, context, audit: .connectionAuthorize) { organization in
                let start = try await connections.authorization.authorize(organization: organization, name: name(context))
                return (
                    JSONText.object([
                        ("authorization_url", .string(start.authorizationURL)), ("state", .string(start.state)),
                        ("redirect_uri", .string(start.redirectURI)), ("expires_at", .string(Self.timestamp(start.expiresAt))),
                    ]), nil
                )
            }
        }
        router.post("connections/:name/refresh-token") { request, context in
            await answer(request, context, audit: .connectionUpdate) { organization in
                let view = try await connections.authorization.importRefreshToken(
                    organization: organization, name: name(context), refreshToken: try await body(RefreshTokenRequest.self, request).refreshToken)
                return (Self.render(view), view.record.generation)
            }
        }
        router.get("credentials/:name") { request, context in
            await answer(request, context, audit: .token) { organization in
                var minTTL = RuntimeConnections.defaultMinTTLSeconds
                if let raw = request.uri.queryParameters.get("min_ttl") {
                    guard raw.utf8.count <= 6, let value = Int(raw), (0...86400).contains(value) else {
                        throw RegistryError(.invalidRequest, "min_ttl must be a number of seconds, 0–86400")
                    }
                    minTTL = value
                }
                let token = try await connections.tokens.credentials(organization: organization, name: name(context), minTTL: minTTL)
                let refreshToken =
                    exposeRefreshTokens ? try await connections.catalog.exposedRefreshToken(organization: organization, name: name(context)) : nil
                return (Self.render(token, name: name(context), refreshToken: refreshToken), nil)
            }
        }
        router.post("connections/:name/dependencies") { request, context in
            await answer(request, context, status: .created, audit: .connectionUpdate) { organization in
                let given = try await body(DependencyRequest.self, request)
                let dependency = try await connections.catalog.addDependency(
                    organization: organization, name: name(context), dependentID: given.dependentID, label: given.label)
                return (Self.render(dependency), nil)
            }
        }
        router.get("connections/:name/dependencies") { request, context in
            await answer(request, context) { organization in
                let listed = try await connections.catalog.dependencies(organization: organization, name: name(context)).map(Self.render)
                return (JSONText.object([("dependencies", .raw("[" + listed.joined(separator: ",") + "]"))]), nil)
            }
        }
        router.delete("connections/:name/dependencies/:dependent") { request, context in
            await answer(request, context, status: .noContent, audit: .connectionUpdate) { organization in
                try await connections.catalog.removeDependency(
                    organization: organization, name: name(context),
                    dependentID: context.parameters.get("dependent") ?? "")
                return ("", nil)
            }
        }
        router.post("workflows/:workflow/dependencies") { request, context in
            await answer(request, context, status: .created, audit: .connectionUpdate) { organization in
                let given = try await body(WorkflowDependencyRequest.self, request)
                let registered = try await connections.catalog.addWorkflowDependency(
                    organization: organization, workflowID: workflow(context), connectionName: given.connectionName, label: given.label)
                return (Self.render(registered), nil)
            }
        }
        router.get("workflows/:workflow/dependencies") { request, context in
            await answer(request, context) { organization in
                let names = try await connections.catalog.workflowConnections(organization: organization, workflowID: workflow(context))
                return (
                    JSONText.object([
                        ("workflow_id", .string(workflow(context))),
                        ("connections", .raw("[" + names.map { JSONText.string($0) }.joined(separator: ",") + "]")),
                    ]), nil
                )
            }
        }
    }

    /// The IdP's redirect back, `GET` or (`response_mode=form_post`) `POST`. Not behind
    /// `admin.auth_mode`: the browser brings no admin credentials, and the single-use state is the
    /// protection. A browser gets a short page, an API client JSON.
    func registerCallback(on router: some RouterMethods<TollgateRequestContext>) {
        for prefix in prefixes {
            let group = router.group(RouterPath(prefix))
            group.get("callback/:name") { request, context in
                // RFC 6749 Appendix B: the redirect's query is form-encoded ('+' is a space).
                let pairs = Self.formPairs(request.uri.query ?? "")
                return await callback(
                    request, context,
                    parameters: pairs.flatMap { pairs in
                        Self.callbackParameters { key in pairs.filter { $0.0 == key }.map(\.1) }
                    })
            }
            group.post("callback/:name") { request, context in
                guard let buffer = try? await request.collectBody(limit: min(maxBodyBytes, 64 * 1024)),
                    let text = String(validating: buffer.readableBytesView, as: UTF8.self), let form = FormEncoding.parse(text)
                else {
                    return await callback(
                        request, context,
                        parameters: .failure(
                            RegistryError(
                                .invalidRequest,
                                "the callback's body must be application/x-www-form-urlencoded (response_mode=form_post), each parameter once")))
                }
                return await callback(request, context, parameters: Self.callbackParameters { key in form[key].map { [$0] } ?? [] })
            }
        }
    }

    static let callbackKeys = ["state", "code", "iss", "error", "error_description"]

    /// Every `key=value` of a form-encoded query, decoded, repeats kept (so they can be refused).
    static func formPairs(_ query: String) -> Result<[(String, String)], RegistryError> {
        var pairs: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = FormEncoding.decode(String(parts[0])), let value = FormEncoding.decode(parts.count > 1 ? String(parts[1]) : "") else {
                return .failure(RegistryError(.invalidRequest, "the callback's query is not form-encoded"))
            }
            pairs.append((key, value))
        }
        return .success(pairs)
    }

    /// The callback's parameters, each at most once (RFC 6749 §3.1).
    static func callbackParameters(_ values: (String) -> [String]) -> Result<[String: String], RegistryError> {
        var parameters: [String: String] = [:]
        for key in callbackKeys {
            let given = values(key)
            guard given.count <= 1 else { return .failure(RegistryError(.invalidRequest, "\(key) is given more than once")) }
            parameters[key] = given.first
        }
        return .success(parameters)
    }

    private func callback(_ request: Request, _ context: TollgateRequestContext, parameters: Result<[String: String], RegistryError>) async -> Response {
        let browser = request.headers[.accept]?.contains("text/html") ?? false
        let connection = PrintableText.clean(name(context), limit: 64)
        do {
            let view = try await connections.authorization.callback(name: name(context), parameters: try parameters.get())
            context.noteAudit(.connectionCallback) { $0.target = connection }
            if browser {
                let back = console ? "/console/connections/\(view.record.name)?" + FormEncoding.encode([("organization", view.record.organization)]) : nil
                return CallbackPage.connected(view.record.name, back: back)
            }
            return Reply.json(
                JSONText.object([
                    ("connection_name", .string(view.record.name)), ("organization", .string(view.record.organization)),
                    ("status", .string(view.record.status.rawValue)),
                ]), headers: [.cacheControl: "no-store", .referrerPolicy: "no-referrer"])
        } catch {
            let refusal = RegistryError.of(error)
            context.noteAudit(.callbackRefused) { note in
                note.target = connection
                note.outcome = .denied
                note.reason = refusal.code.rawValue
            }
            if browser {
                return CallbackPage.failed(
                    connection, status: Self.status(of: refusal), reason: refusal.message, back: console ? "/console/connections" : nil)
            }
            var answer = Self.refusal(refusal, requestID: context.requestID)
            answer.headers[.referrerPolicy] = "no-referrer"
            return answer
        }
    }

    private func name(_ context: TollgateRequestContext) -> String { context.parameters.get("name") ?? "" }
    private func workflow(_ context: TollgateRequestContext) -> String { context.parameters.get("workflow") ?? "" }

    /// The request's body read as the edge type `T` (`ConnectionRequests`).
    private func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let bytes: Data
        do {
            bytes = Data(try await request.collectBody(limit: maxBodyBytes).readableBytesView)
        } catch .tooLarge {
            throw RegistryError(.invalidRequest, "request body exceeds \(maxBodyBytes) bytes")
        } catch {
            throw RegistryError(.invalidRequest, "request body unreadable")
        }
        return try ConnectionRequests.decode(T.self, from: bytes)
    }

    /// Seed 002's `created_by`: the caller's `X-User-Id` (cleaned), else who passed the admin guard.
    static func creator(_ request: Request, _ context: TollgateRequestContext) -> String {
        if let user = request.headers[.xUserID].map({ PrintableText.clean($0, limit: 128) }), !user.isEmpty { return user }
        return context.adminIdentity ?? "unknown"
    }

    static func flag(_ value: String?, _ name: String, default fallback: Bool) throws -> Bool {
        switch value?.lowercased() {
        case nil: fallback
        case "true", "1": true
        case "false", "0": false
        default: throw RegistryError(.invalidRequest, "\(name) must be true or false")
        }
    }

    /// Runs one operation for the caller's organisation and renders its answer or its refusal.
    /// A generation becomes the `ETag`.
    private func answer(
        _ request: Request, _ context: TollgateRequestContext, status: HTTPResponse.Status = .ok, audit: AuditAction? = nil,
        _ operation: (String) async throws -> (String, Int?)
    ) async -> Response {
        if let audit {
            context.noteAudit(audit) { note in
                note.target = context.parameters.get("name") ?? context.parameters.get("workflow").map { "workflow:" + $0 }
            }
        }
        do {
            let organization = try RuntimeConnections.organization(header: request.headers[.xOrganizationID])
            let (body, generation) = try await operation(organization)
            var headers: HTTPFields = [.cacheControl: "no-store"]
            if let generation { headers[.eTag] = "\"\(generation)\"" }
            if status == .noContent { return Response(status: .noContent, headers: headers) }
            return Reply.json(body, status: status, headers: headers)
        } catch {
            let refusal = RegistryError.of(error)
            context.noteAuditDetails { $0.reason = refusal.code.rawValue }
            return Self.refusal(refusal, requestID: context.requestID)
        }
    }

    static func status(of error: RegistryError) -> HTTPResponse.Status {
        switch error.code {
        case .invalidRequest, .unsupportedFlow, .invalidState, .issuerMismatch, .authorizationDenied, .secretRequired, .idTokenInvalid: .badRequest
        case .notFound: .notFound
        case .exists, .reserved, .inUse: .conflict
        case .generationMismatch: .preconditionFailed
        case .tokenUnavailable, .storeUnavailable, .notConnected, .reauthorizationRequired: .serviceUnavailable
        }
    }

    /// The error body; seed 002's `status` and `status_message` when the connection has no usable token.
    static func refusal(_ error: RegistryError, requestID: String) -> Response {
        let status = status(of: error)
        let retries = error.code == .tokenUnavailable || error.code == .storeUnavailable
        var extra: [(String, JSONText.Value)] = []
        if let connectionStatus = error.connectionStatus {
            extra = [("status", .string(connectionStatus.rawValue)), ("status_message", error.statusMessage.map { .string($0) } ?? .null)]
        }
        return OutboundErrorReply.response(
            error.code.rawValue, error.message, status: status, requestID: requestID,
            headers: retries ? [.retryAfter: "5"] : [:], extra: extra)
    }
}

extension HTTPField.Name {
    static let xOrganizationID = Self("X-Organization-Id")!
    static let xUserID = Self("X-User-Id")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
