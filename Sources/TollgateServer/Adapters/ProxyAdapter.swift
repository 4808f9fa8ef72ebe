import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// `ANY /proxy/{server}/{path…}`: hands the request to the token-injecting upstream proxy and
/// streams the answer back, or answers with a seed-004 error code. Registered on the admin group.
struct ProxyAdapter {
    let proxy: UpstreamProxy
    /// What a name means: a configured server, else a runtime connection.
    let targets: OutboundTargets
    /// How long the caller's unread body may take to arrive once the answer has been sent.
    let drainTimeout: Duration

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        for method in Self.methods {
            router.on("/proxy/:server", method: method) { request, context in await forward(request, context) }
            router.on("/proxy/:server/**", method: method) { request, context in await forward(request, context) }
        }
    }

    private func forward(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        let server = context.parameters.get("server") ?? ""
        context.noteAudit(.proxy) { $0.target = server }
        // The remainder is sliced from the raw path, so the raw path must be exactly what the
        // router matched: `/proxy/{server}` then `/` or nothing (the router skips empty segments).
        let prefix = "/proxy/" + server
        let raw = request.uri.path
        guard raw.hasPrefix(prefix), raw.utf8.count == prefix.utf8.count || raw.utf8.dropFirst(prefix.utf8.count).first == UInt8(ascii: "/") else {
            return Self.response(for: .badPath, server: server, requestID: context.requestID)
        }
        let path = raw.dropFirst(prefix.count)
        let route: ProxyRoute
        switch await resolve(server, request) {
        case .success(let resolved): route = resolved
        case .failure(let refusal): return refusal.response(requestID: context.requestID, server: server)
        }
        let declared = UpstreamProxy.declaredBody(request.headers)
        let upload = declared.present ? UploadPump(body: request.body, limit: proxy.maxBodyBytes) : nil
        let length = declared.length
        var openBody: (@Sendable () -> UpstreamBody<RequestBody>)?
        if let upload { openBody = { UpstreamBody(stream: upload.start(), length: length) } }
        let result = await proxy.forward(
            route: route, method: request.method, path: path, query: request.uri.query, headers: request.headers,
            body: openBody, requestID: context.requestID
        )
        switch result {
        case .success(let upstream) where upload == nil && upstream.body.wholeBuffer != nil:
            // A small answer that arrived whole is written in one go.
            return Response(
                status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase),
                headers: ProxyHeaders.callerResponseHeaders(from: upstream.headers),
                body: ResponseBody(byteBuffer: upstream.body.wholeBuffer ?? ByteBuffer())
            )
        case .success(let upstream):
            return Response(
                status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase),
                headers: ProxyHeaders.callerResponseHeaders(from: upstream.headers),
                body: ResponseBody { writer in
                    do {
                        for try await chunk in upstream.body { try await writer.write(chunk) }
                    } catch {
                        _ = await upload?.abandon()
                        throw error
                    }
                    // A caller that stops sending its body would pin this task: bounded, then the
                    // connection is closed (throwing from the writer closes it).
                    if let upload, !(await upload.finish(within: drainTimeout)) { throw UploadPump.Stalled() }
                    try await writer.finish(nil)
                }
            )
        case .failure(let failure):
            let exceeded = await upload?.abandon() ?? false
            return Self.response(for: exceeded ? .tooLarge : failure, server: server, requestID: context.requestID)
        }
    }

    private enum Refusal: Error {
        case proxy(ProxyFailure)
        case registry(RegistryError)

        func response(requestID: String, server: String) -> Response {
            switch self {
            case .proxy(let failure): ProxyAdapter.response(for: failure, server: server, requestID: requestID)
            case .registry(let error): ConnectionsAdapter.refusal(error, requestID: requestID)
            }
        }
    }

    /// A configured server first, then the caller's organisation's runtime connection (or GLOBAL's).
    private func resolve(_ name: String, _ request: Request) async -> Result<ProxyRoute, Refusal> {
        do {
            let (connections, organization): (RuntimeConnections, String)
            switch try targets.resolve(name, organizationHeader: request.headers[.xOrganizationID]) {
            case .configured(let server): return .success(proxy.route(to: server))
            case .unknown: return .failure(.proxy(.unknownServer))
            case .runtime(let registry, let caller): (connections, organization) = (registry, caller)
            }
            // The token is had here, so that a connection without one is refused with its registry code.
            let (url, first) = try await connections.tokens.proxyTarget(organization: organization, name: name)
            let route = proxy.route(runtime: name, url: url) { refused in
                guard refused != nil else { return .success(first) }
                do {
                    return .success(try await connections.tokens.accessToken(organization: organization, name: name, refused: refused))
                } catch {
                    return .failure(TokenFetchError(.credentials, detail: RegistryError.of(error).description))
                }
            }
            guard let route else { return .failure(.registry(RegistryError(.invalidRequest, "\(name)'s url cannot be proxied to"))) }
            return .success(route)
        } catch {
            let refusal = RegistryError.of(error)
            return .failure(refusal.code == .notFound ? .proxy(.unknownServer) : .registry(refusal))
        }
    }

    static func response(for failure: ProxyFailure, server: String, requestID: String) -> Response {
        switch failure {
        case .unknownServer:
            return OutboundErrorReply.unknownServer(server, requestID: requestID)
        case .badPath:
            return OutboundErrorReply.response(
                "INVALID_PATH", "the path may not contain dot segments or encoded slashes", status: .badRequest, requestID: requestID)
        case .tooLarge:
            return OutboundErrorReply.response("PAYLOAD_TOO_LARGE", "request body exceeds proxy.max_body_bytes", status: .contentTooLarge, requestID: requestID)
        case .token(let error):
            return OutboundErrorReply.tokenUnavailable(error, server: server, requestID: requestID)
        case .callerBody:
            return OutboundErrorReply.response("INVALID_BODY", "the request body could not be read to its end", status: .badRequest, requestID: requestID)
        case .connectionFailed:
            return OutboundErrorReply.response("CONNECTION_FAILED", "cannot connect to the upstream of \(server)", status: .badGateway, requestID: requestID)
        case .timeout:
            return OutboundErrorReply.response(
                "UPSTREAM_ERROR", "the upstream of \(server) did not answer in time", status: .gatewayTimeout, requestID: requestID)
        case .upstreamError:
            return OutboundErrorReply.response("UPSTREAM_ERROR", "the upstream of \(server) failed to answer", status: .badGateway, requestID: requestID)
        case .circuitOpen(let wait):
            return OutboundErrorReply.response(
                "CIRCUIT_OPEN", "the upstream of \(server) is failing; requests are paused", status: .serviceUnavailable,
                requestID: requestID, headers: [.retryAfter: String(Int(max(1, wait.rounded(.up))))])
        }
    }
}
