import HTTPTypes
import Hummingbird

/// `ANY /proxy/{server}/{path…}`: hands the request to the token-injecting upstream proxy and
/// streams the answer back, or answers with a seed-004 error code.
struct ProxyAdapter {
    let proxy: UpstreamProxy
    let guardian: AdminGuard

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]

    func register(on router: Router<TollgateRequestContext>) {
        for method in Self.methods {
            router.on("/proxy/:server", method: method) { request, context in await forward(request, context) }
            router.on("/proxy/:server/**", method: method) { request, context in await forward(request, context) }
        }
    }

    private func forward(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        if let refusal = await guardian.refusal(for: request, context: context) { return refusal }
        let server = context.parameters.get("server") ?? ""
        let path = request.uri.path.dropFirst("/proxy/".count + server.utf8.count)
        let result = await proxy.forward(
            server: server, method: request.method, path: path, query: request.uri.query,
            headers: request.headers, body: request.body, requestID: context.requestID
        )
        switch result {
        case .success(let answer):
            let upstream = answer.response
            return Response(
                status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase),
                headers: ProxyHeaders.callerResponseHeaders(from: upstream.headers),
                body: ResponseBody { writer in
                    do {
                        for try await chunk in upstream.body { try await writer.write(chunk) }
                    } catch {
                        _ = await answer.upload?.abandon()
                        throw error
                    }
                    await answer.upload?.finish()
                    try await writer.finish(nil)
                }
            )
        case .failure(let failure):
            return Self.response(for: failure, server: server, requestID: context.requestID)
        }
    }

    static func response(for failure: ProxyFailure, server: String, requestID: String) -> Response {
        switch failure {
        case .unknownServer:
            return OutboundErrorReply.unknownServer(server, requestID: requestID)
        case .badPath:
            return OutboundErrorReply.response("INVALID_PATH", "the path may not contain dot segments or encoded slashes", status: .badRequest, requestID: requestID)
        case .tooLarge:
            return OutboundErrorReply.response("PAYLOAD_TOO_LARGE", "request body exceeds proxy.max_body_bytes", status: .contentTooLarge, requestID: requestID)
        case .token(let error):
            return OutboundErrorReply.tokenUnavailable(error, server: server, requestID: requestID)
        case .connectionFailed:
            return OutboundErrorReply.response("CONNECTION_FAILED", "cannot connect to the upstream of \(server)", status: .badGateway, requestID: requestID)
        case .timeout:
            return OutboundErrorReply.response("UPSTREAM_ERROR", "the upstream of \(server) did not answer in time", status: .gatewayTimeout, requestID: requestID)
        case .upstreamError:
            return OutboundErrorReply.response("UPSTREAM_ERROR", "the upstream of \(server) failed to answer", status: .badGateway, requestID: requestID)
        }
    }
}
