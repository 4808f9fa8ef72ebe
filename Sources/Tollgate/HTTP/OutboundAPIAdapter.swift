import Foundation
import HTTPTypes
import Hummingbird

/// Seed 000's `/dicomweb-oauth/*` status API and seed 004's `/token` endpoints. No answer here
/// ever contains token characters except `GET /token/{server}`, whose purpose that is.
struct OutboundAPIAdapter {
    let tokens: OutboundTokens
    let pusher: OrthancPusher
    let guardian: AdminGuard
    let readiness: Readiness
    let version: String

    func register(on router: Router<TollgateRequestContext>) {
        router.get("/dicomweb-oauth/status") { request, context in
            await guarded(request, context) {
                Reply.json(JSONText.object([
                    ("plugin", .string("tollgate")), ("version", .string(version)), ("status", .string("active")),
                    ("configured_servers", .int(tokens.sources.count)), ("servers", .strings(tokens.sources.map(\.name))),
                    ("ready", .bool(readiness.notReadyReasons().isEmpty)),
                ]), headers: [.cacheControl: "no-store"])
            }
        }
        router.get("/dicomweb-oauth/servers") { request, context in
            await guarded(request, context) {
                let servers = tokens.sources.map { Self.render($0.status, pushes: pusher.status(forOutboundServer: $0.name)) }
                return Reply.json(JSONText.object([("servers", .raw("[" + servers.joined(separator: ",") + "]"))]),
                                  headers: [.cacheControl: "no-store"])
            }
        }
        router.post("/dicomweb-oauth/servers/:name/test") { request, context in
            await guarded(request, context) { await test(context.parameters.get("name") ?? "", requestID: context.requestID) }
        }
        router.get("/token") { request, context in
            await guarded(request, context) {
                // seed 004 served one upstream at `/token`: keep that working when there is exactly one.
                guard tokens.sources.count == 1 else {
                    return OutboundErrorReply.response("ENDPOINT_NOT_FOUND", "name the server: /token/{server}", status: .notFound, requestID: context.requestID)
                }
                return await token(tokens.sources[0].name, requestID: context.requestID)
            }
        }
        router.get("/token/:server") { request, context in
            await guarded(request, context) { await token(context.parameters.get("server") ?? "", requestID: context.requestID) }
        }
        router.post("/token/clear") { request, context in
            await guarded(request, context) { clear(only: request.uri.queryParameters.get("server"), requestID: context.requestID) }
        }
    }

    private func guarded(_ request: Request, _ context: TollgateRequestContext, _ body: () async -> Response) async -> Response {
        if let refusal = await guardian.refusal(for: request, context: context) { return refusal }
        return await body()
    }

    private func token(_ name: String, requestID: String) async -> Response {
        guard let source = tokens[name] else { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
        switch await source.token() {
        case .success(let token):
            return Reply.json(JSONText.object([
                ("access_token", .string(token.value)), ("token_type", .string("Bearer")),
                ("expires_in", .int(source.secondsLeft(of: token))),
            ]), headers: [.cacheControl: "no-store", .pragma: "no-cache"])
        case .failure(let error):
            return OutboundErrorReply.tokenUnavailable(error, server: name, requestID: requestID)
        }
    }

    private func test(_ name: String, requestID: String) async -> Response {
        guard let source = tokens[name] else { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
        let started = ContinuousClock.now
        let result = await source.refresh()
        let elapsed = ContinuousClock.now - started
        let latency = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        switch result {
        case .success(let token):
            return Reply.json(JSONText.object([
                ("server", .string(name)), ("status", .string("success")), ("token_acquired", .bool(true)),
                ("expires_in", .int(Int(token.lifetime))), ("latency_ms", .int(latency)),
            ]), headers: [.cacheControl: "no-store"])
        case .failure(let error):
            return Reply.json(JSONText.object([
                ("server", .string(name)), ("status", .string("error")), ("token_acquired", .bool(false)),
                ("error", .string(error.description)), ("latency_ms", .int(latency)), ("request_id", .string(requestID)),
            ]), status: .serviceUnavailable, headers: [.cacheControl: "no-store"])
        }
    }

    private func clear(only name: String?, requestID: String) -> Response {
        let selected: [TokenSource]
        if let name {
            guard let source = tokens[name] else { return OutboundErrorReply.unknownServer(name, requestID: requestID) }
            selected = [source]
        } else {
            selected = tokens.sources
        }
        for source in selected { source.clear() }
        return Reply.json(JSONText.object([("cleared", .strings(selected.map(\.name)))]), headers: [.cacheControl: "no-store"])
    }

    static func render(_ status: TokenSourceStatus, pushes: [OrthancPushStatus]) -> String {
        let pushed = pushes.map { push in
            JSONText.object([
                ("orthanc_server", .string(push.orthancServer)), ("current", .bool(push.current)),
                ("last_push", push.lastPush.map { .string(Self.timestamp($0)) } ?? .null),
                ("last_error", push.lastError.map { .string($0) } ?? .null),
            ])
        }
        return JSONText.object([
            ("name", .string(status.name)), ("url", .string(status.url)), ("token_endpoint_host", .string(status.tokenEndpointHost)),
            ("has_token", .bool(status.hasToken)), ("token_valid", .bool(status.tokenValid)),
            ("expires_in_seconds", status.expiresInSeconds.map { .int($0) } ?? .null),
            ("last_refresh", status.lastRefresh.map { .string(Self.timestamp($0)) } ?? .null),
            ("last_error", status.lastError.map { .string($0) } ?? .null),
            ("circuit_state", .string(status.circuit.name)),
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
