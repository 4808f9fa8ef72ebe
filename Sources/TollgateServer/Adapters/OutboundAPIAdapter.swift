import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// Seed 000's `/dicomweb-oauth/*` status API and seed 004's `/token` endpoints. No answer here
/// ever contains token characters except `GET /token/{server}`, whose purpose that is. Registered
/// on the admin group: the guard has passed the caller before any handler here runs.
struct OutboundAPIAdapter {
    let servers: OutboundServers
    let pusher: OrthancPusher
    let readiness: Readiness
    let version: String
    /// What `/token/{name}` means: a configured server, else a runtime connection.
    let targets: OutboundTargets

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.get("/dicomweb-oauth/status") { _, _ in
            Reply.json(
                JSONText.object([
                    ("plugin", .string("tollgate")), ("version", .string(version)), ("status", .string("active")),
                    ("configured_servers", .int(servers.all.count)), ("servers", .strings(servers.all.map(\.name))),
                    ("ready", .bool(readiness.notReadyReasons().isEmpty)),
                ]), headers: [.cacheControl: "no-store"])
        }
        router.get("/dicomweb-oauth/servers") { _, _ in
            let rendered = servers.all.map { Self.render($0.status, pushes: pusher.status(forOutboundServer: $0.name)) }
            return Reply.json(
                JSONText.object([("servers", .raw("[" + rendered.joined(separator: ",") + "]"))]),
                headers: [.cacheControl: "no-store"])
        }
        router.post("/dicomweb-oauth/servers/:name/test") { _, context in
            await test(context.parameters.get("name") ?? "", requestID: context.requestID)
        }
        router.get("/token") { _, context in
            // seed 004 served one upstream at `/token`: keep that working when there is exactly one.
            context.noteAudit(.token) { $0.target = servers.all.count == 1 ? servers.all[0].name : nil }
            guard servers.all.count == 1 else {
                return OutboundErrorReply.response("ENDPOINT_NOT_FOUND", "name the server: /token/{server}", status: .notFound, requestID: context.requestID)
            }
            return await token(servers.all[0].name, requestID: context.requestID)
        }
        router.get("/token/:server") { request, context in
            let name = context.parameters.get("server") ?? ""
            context.noteAudit(.token) { $0.target = name }
            do {
                switch try targets.resolve(name, organizationHeader: request.headers[.xOrganizationID]) {
                case .configured, .unknown: return await token(name, requestID: context.requestID)
                case .runtime(let connections, let organization):
                    return await runtimeToken(name, connections: connections, organization: organization, requestID: context.requestID)
                }
            } catch {
                return ConnectionsAdapter.refusal(RegistryError.of(error), requestID: context.requestID)
            }
        }
        router.post("/token/clear") { request, context in
            clear(only: request.uri.queryParameters.get("server"), requestID: context.requestID)
        }
    }

    private func token(_ name: String, requestID: String) async -> Response {
        guard let source = servers[name]?.tokens else { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
        switch await source.token() {
        case .success(let token) where token.isDPoPBound:
            return OutboundErrorReply.dpopBound(name, requestID: requestID)
        case .success(let token):
            return Reply.json(
                JSONText.object([
                    ("access_token", .string(token.value)), ("token_type", .string("Bearer")),
                    ("expires_in", .int(source.secondsLeft(of: token))),
                ]), headers: [.cacheControl: "no-store", .pragma: "no-cache"])
        case .failure(let error):
            return OutboundErrorReply.tokenUnavailable(error, server: name, requestID: requestID)
        }
    }

    /// seed 004's `/token` answer for a runtime connection (`X-Organization-Id`, falling back to GLOBAL's).
    private func runtimeToken(_ name: String, connections: RuntimeConnections, organization: String, requestID: String) async -> Response {
        do {
            let token = try await connections.tokens.credentials(organization: organization, name: name)
            return Reply.json(
                JSONText.object([
                    ("access_token", .string(token.accessToken)), ("token_type", .string("Bearer")), ("expires_in", .int(token.expiresIn)),
                ]), headers: [.cacheControl: "no-store", .pragma: "no-cache"])
        } catch {
            let refusal = RegistryError.of(error)
            if refusal.code == .notFound { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
            return ConnectionsAdapter.refusal(refusal, requestID: requestID)
        }
    }

    private func test(_ name: String, requestID: String) async -> Response {
        guard let source = servers[name]?.tokens else { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
        let started = ContinuousClock.now
        let result = await source.refresh()
        let latency = Int((ContinuousClock.now - started).milliseconds)
        switch result {
        case .success(let token):
            return Reply.json(
                JSONText.object([
                    ("server", .string(name)), ("status", .string("success")), ("token_acquired", .bool(true)),
                    ("expires_in", .int(Int(saturating: token.lifetime))), ("latency_ms", .int(latency)),
                ]), headers: [.cacheControl: "no-store"])
        case .failure(let error):
            var members: [(String, JSONText.Value)] = [
                ("server", .string(name)), ("status", .string("error")), ("token_acquired", .bool(false)),
                ("error", .string(error.description)), ("latency_ms", .int(latency)), ("request_id", .string(requestID)),
            ]
            if let traceID = CurrentTrace.id { members.append(("trace_id", .string(traceID))) }
            return Reply.json(JSONText.object(members), status: .serviceUnavailable, headers: [.cacheControl: "no-store"])
        }
    }

    private func clear(only name: String?, requestID: String) -> Response {
        let selected: [OutboundServer]
        if let name {
            guard let server = servers[name] else { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
            selected = [server]
        } else {
            selected = servers.all
        }
        for server in selected { server.tokens.clear() }
        return Reply.json(JSONText.object([("cleared", .strings(selected.map(\.name)))]), headers: [.cacheControl: "no-store"])
    }

    static func render(_ status: OutboundServerStatus, pushes: [OrthancPushStatus]) -> String {
        let pushed = pushes.map { push in
            JSONText.object([
                ("orthanc_server", .string(push.orthancServer)), ("current", .bool(push.current)),
                ("last_push", push.lastPush.map { .string(Self.timestamp($0)) } ?? .null),
                ("last_error", push.lastError.map { .string($0) } ?? .null),
            ])
        }
        return JSONText.object([
            ("name", .string(status.name)), ("url", .string(status.url)), ("token_endpoint_host", .string(status.tokenEndpointHost)),
            ("has_token", .bool(status.token.hasToken)), ("token_valid", .bool(status.token.tokenValid)),
            ("expires_in_seconds", status.token.expiresInSeconds.map { .int($0) } ?? .null),
            ("last_refresh", status.token.lastRefresh.map { .string(Self.timestamp($0)) } ?? .null),
            ("last_error", status.token.lastError.map { .string($0) } ?? .null),
            ("circuit_state", .string(status.token.circuit.name)),
            ("upstream_circuit_state", status.upstreamCircuit.map { .string($0.name) } ?? .null),
            ("orthanc_push", .raw("[" + pushed.joined(separator: ",") + "]")),
        ])
    }

    static func timestamp(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}

extension HTTPField.Name {
    static let pragma = Self("Pragma")!
}
