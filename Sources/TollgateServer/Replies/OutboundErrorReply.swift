import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateKit
import TollgateOutbound

/// The JSON error answers of the outbound API and the proxy, with seed-004's codes.
enum OutboundErrorReply {
    /// `extra`: members a protocol adds (seed 002's `status` on a 503, say).
    static func response(
        _ code: String, _ message: String, status: HTTPResponse.Status, requestID: String, headers: HTTPFields = [:],
        extra: [(String, JSONText.Value)] = []
    ) -> Response {
        var headers = headers
        headers[.cacheControl] = "no-store"
        var members: [(String, JSONText.Value)] = [("error", .string(code)), ("message", .string(message)), ("request_id", .string(requestID))] + extra
        if let traceID = CurrentTrace.id { members.append(("trace_id", .string(traceID))) }
        return Reply.json(JSONText.object(members), status: status, headers: headers)
    }

    static func tokenUnavailable(_ error: TokenFetchError, server: String, requestID: String) -> Response {
        if error.kind == .circuitOpen {
            let retry = String(Int((error.retryAfter ?? 1).rounded(.up)))
            return response(
                "CIRCUIT_OPEN", "token endpoint of \(server) is failing; calls are paused", status: .serviceUnavailable,
                requestID: requestID, headers: [.retryAfter: retry])
        }
        return response(
            "TOKEN_UNAVAILABLE", "no valid token for \(server): \(error.description)", status: .serviceUnavailable,
            requestID: requestID, headers: [.retryAfter: "5"])
    }

    /// A DPoP-bound token is useless without Tollgate's key, and is never handed out.
    static func dpopBound(_ server: String, requestID: String) -> Response {
        response(
            "DPOP_BOUND", "the token of \(server) is DPoP-bound to Tollgate's key; send requests through /proxy/\(server)/ instead",
            status: .conflict, requestID: requestID)
    }

    static func unknownServer(_ name: String, requestID: String) -> Response {
        response("ENDPOINT_NOT_FOUND", "no outbound server named \(PrintableText.clean(name, limit: 64))", status: .notFound, requestID: requestID)
    }
}
