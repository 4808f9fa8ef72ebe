import Hummingbird
import TollgateInbound
import TollgateKit

/// `POST /orthanc/authorize`: Tollgate's Python filter for Orthanc 1.10 (which has no
/// authorization plugin) asks here, per request, and gets the plugin's decision model: permission
/// table, then profile, then share tokens.
struct OrthancFilterAdapter {
    let decision: OrthancAccessDecision
    let maxBodyBytes: Int

    struct FilterRequest: Decodable {
        var method: String
        var uri: String
        var get: [String: String]?
        /// Values of the token-bearing headers and GET arguments, as sent (`Bearer ` allowed).
        var tokens: [String]?
        var resources: [OrthancResource]?
        var labels: [String]?
        var serverID: String?

        enum CodingKeys: String, CodingKey {
            case method, uri, get, tokens, resources, labels
            case serverID = "server-id"
        }
    }

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.post("/orthanc/authorize") { request, context in await authorize(request, context) }
    }

    private func authorize(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        let body: FilterRequest
        switch await OrthancBody.decode(FilterRequest.self, from: request, limit: maxBodyBytes, context: context) {
        case .success(let decoded): body = decoded
        case .failure(let refusal): return refusal.response
        }
        guard body.uri.hasPrefix("/"), body.uri.utf8.count <= 8192, (body.resources?.count ?? 0) <= 16, (body.tokens?.count ?? 0) <= 8 else {
            return OrthancReplies.error("uri must be an absolute path; at most 8 tokens and 16 resources", status: .badRequest, requestID: context.requestID)
        }
        let tokens = (body.tokens ?? []).compactMap(BearerToken.fromPresented)
        let outcome = await decision.decide(
            OrthancAccessDecision.Request(
                method: body.method, uri: body.uri, getArguments: body.get ?? [:], tokens: tokens,
                resources: body.resources ?? [], labels: body.labels, serverID: body.serverID))
        context.noteDecision(outcome.decision)
        context.noteAudit(.orthancAuthorize) { note in
            note.method = body.method.uppercased()
            note.path = body.uri
            note.resource = outcome.resource.map(AuditEvent.Resource.init)
            note.outcome = outcome.granted ? .allowed : .denied
            note.reason = outcome.reason
        }
        context.noteOrthanc(
            OrthancAccess(
                method: body.method, level: outcome.resource?.level,
                resource: outcome.resource.flatMap { $0.orthancID ?? $0.dicomUID }, user: outcome.user,
                permission: outcome.permission))
        return OrthancReplies.json(
            JSONText.object([
                ("granted", .bool(outcome.granted)), ("validity", .int(outcome.validity)), ("reason", .string(outcome.reason)),
            ]))
    }
}
