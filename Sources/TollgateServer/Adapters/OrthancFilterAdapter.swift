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
        router.post("/orthanc/authorize") { request, context in await authorize(request, context).response }
    }

    func authorize(_ request: Request, _ context: TollgateRequestContext) async -> Answer {
        await OrthancBody.answer(FilterRequest.self, from: request, limit: maxBodyBytes, context: context) { body in
            guard let asked = Self.accessRequest(body) else { return Self.overLimits(context) }
            return authorized(body, await decision.decide(asked), context)
        }
    }

    /// The same answer as `authorize`, once a request context exists, when it needs no wait; nil otherwise.
    func settledAuthorize(_ buffer: ByteBuffer) -> SettledAnswer? {
        OrthancBody.settle(FilterRequest.self, from: buffer) { body in
            guard let asked = Self.accessRequest(body) else { return Self.overLimits }
            return decision.settled(asked).map { settled in { authorized(body, decision.decide(settled), $0) } }
        }
    }

    private static func accessRequest(_ body: FilterRequest) -> OrthancAccessDecision.Request? {
        guard body.uri.hasPrefix("/"), body.uri.utf8.count <= 8192, (body.resources?.count ?? 0) <= 16, (body.tokens?.count ?? 0) <= 8 else { return nil }
        return OrthancAccessDecision.Request(
            method: body.method, uri: body.uri, getArguments: body.get ?? [:], tokens: (body.tokens ?? []).compactMap(BearerToken.fromPresented),
            resources: body.resources ?? [], labels: body.labels, serverID: body.serverID)
    }

    private static func overLimits(_ context: TollgateRequestContext) -> Answer {
        OrthancReplies.error("uri must be an absolute path; at most 8 tokens and 16 resources", status: .badRequest, requestID: context.requestID)
    }

    private func authorized(_ body: FilterRequest, _ outcome: OrthancAccessDecision.Outcome, _ context: TollgateRequestContext) -> Answer {
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
