import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// MockForge's remote-plugin protocol: `POST /plugin/authenticate` (SDK shape A, and the host
/// adapter's shape B answered gracefully). Maps the wire format onto `InboundAuthenticator`.
struct MockForgeAdapter {
    let authenticator: InboundAuthenticator
    let maxBodyBytes: Int

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.post("/plugin/authenticate") { request, context in
            await authenticate(request, context: context)
        }
    }

    func authenticate(_ request: Request, context: TollgateRequestContext) async -> Response {
        context.noteAudit(.pluginAuthenticate)
        let body: ByteBuffer
        do {
            body = try await request.collectBody(limit: maxBodyBytes)
        } catch .tooLarge {
            return Self.failure("request body exceeds \(maxBodyBytes) bytes", status: .contentTooLarge)
        } catch {
            return Self.failure("request body could not be read", status: .badRequest)
        }
        let message: MockForgeRequest
        switch Self.read(body) {
        case .refused(let answer): return answer.response
        case .message(let read): message = read
        }
        Self.noteGuarded(message, context)
        switch Self.intent(message) {
        case .refuse(let reason, let reply):
            return reply.answer(authenticator.refuse(reason, context: context)).response
        case .token(let token, let reply):
            return reply.answer(await authenticator.authenticate(token: token, context: context, presentation: reply.presentation)).response
        }
    }

    /// A body read, and the token it names settled: what the event-loop path answers.
    struct SettledMessage {
        fileprivate enum Kind {
            case unreadable(Answer)
            case refuse(DenialReason, ReplyShape)
            case token(SettledToken, ReplyShape)
        }
        fileprivate let message: MockForgeRequest?
        fileprivate let kind: Kind
    }

    /// The body's answer needs no wait: it is unreadable, names no token, or one whose verdict is
    /// settled now; nil otherwise (a cache miss, a DPoP proof to check).
    func settle(_ body: ByteBuffer) -> SettledMessage? {
        let message: MockForgeRequest
        switch Self.read(body) {
        case .refused(let answer): return SettledMessage(message: nil, kind: .unreadable(answer))
        case .message(let read): message = read
        }
        switch Self.intent(message) {
        case .refuse(let reason, let reply):
            return SettledMessage(message: message, kind: .refuse(reason, reply))
        case .token(_, .dpop):
            return nil
        case .token(let token, let reply):
            return authenticator.settled(token: token).map { SettledMessage(message: message, kind: .token($0, reply)) }
        }
    }

    /// The same answer as `authenticate(_:context:)` gives that body, without waiting.
    func authenticate(_ settled: SettledMessage, context: TollgateRequestContext) -> Answer {
        context.noteAudit(.pluginAuthenticate)
        if let message = settled.message { Self.noteGuarded(message, context) }
        switch settled.kind {
        case .unreadable(let answer): return answer
        case .refuse(let reason, let reply): return reply.answer(authenticator.refuse(reason, context: context))
        case .token(let token, let reply): return reply.answer(authenticator.decide(token, requirement: .none, context: context))
        }
    }

    /// The body as the plugin protocol reads it.
    enum Reading {
        case message(MockForgeRequest)
        case refused(Answer)
    }

    static func read(_ body: ByteBuffer) -> Reading {
        do {
            return .message(try MockForgeRequest(json: body.readableBytesView))
        } catch {
            return .refused(failureAnswer(error.message, status: .badRequest))
        }
    }

    /// What a message asks to be decided, and in which of the protocol's replies.
    enum Intent {
        case refuse(DenialReason, ReplyShape)
        case token(String, ReplyShape)
    }

    enum ReplyShape {
        /// Shape A, the SDK's envelope.
        case plugin
        /// Shape A with a DPoP-bound token and its proof.
        case dpop(TokenPresentation)
        /// Shape B, the host adapter's own reply.
        case hostAdapter(noCredentials: Bool)

        var presentation: TokenPresentation {
            if case .dpop(let presentation) = self { return presentation }
            return .bearer
        }

        func answer(_ decision: Decision) -> Answer {
            switch self {
            case .plugin:
                return MockForgeAdapter.answer(decision)
            case .dpop:
                var answer = MockForgeAdapter.answer(decision)
                // For a host that hands response headers back to its client; the plugin body has no place for it.
                answer.headers[.dpopNonce] = decision.dpopNonce
                return answer
            case .hostAdapter(let noCredentials):
                return MockForgeAdapter.hostAdapterAnswer(decision, noCredentials: noCredentials)
            }
        }
    }

    static func intent(_ message: MockForgeRequest) -> Intent {
        if !message.hasCredentials, message.isHostAdapterShape {
            guard let token = message.queryAccessToken else { return .refuse(.missingToken, .hostAdapter(noCredentials: true)) }
            return .token(token, .hostAdapter(noCredentials: false))
        }
        if let (token, presentation) = message.dpopPresentation { return .token(token, .dpop(presentation)) }
        guard let token = message.bearerToken else {
            return .refuse(message.hasNonBearerCredential ? .unsupportedCredential : .missingToken, .plugin)
        }
        return .token(token, .plugin)
    }

    /// The request the plugin asks about, as the audit record's method and path.
    private static func noteGuarded(_ message: MockForgeRequest, _ context: TollgateRequestContext) {
        context.noteAuditDetails { note in
            note.method = message.guardedMethod.flatMap { AuditEvent.clean($0.uppercased(), limit: 16) }
            // Never the query: it may carry the token.
            note.path = message.guardedURI.flatMap { AuditEvent.clean(String($0.prefix { $0 != "?" && $0 != "#" }), limit: 512) }
        }
    }

    static func answer(_ decision: Decision) -> Answer {
        switch decision.verdict {
        case .allowed:
            let claims = decision.principal!.claims
            var out = TextBuffer(capacity: 512)
            out.append(bytes: #"{"success":true,"result":{"authenticated":true,"user_id":"#)
            out.appendJSONString(claims.userID)
            out.append(bytes: #","claims":"#)
            claims.appendJSON(to: &out)
            out.append(bytes: "}}")
            return Answer(status: .ok, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: out.bytes))
        case .denied(let reason):
            var error = reason.message
            if reason == .scope { error += ": " + decision.missingScopes.joined(separator: " ") }
            return Answer.json(#"{"success":true,"result":{"authenticated":false,"user_id":"","claims":{"error":"# + JSONText.string(error) + "}}}")
        case .indeterminate:
            return failureAnswer("authorization server unavailable", status: .serviceUnavailable)
        }
    }

    /// Shape B's reply, without the SDK envelope. Undecided is a non-2xx, which the host treats as
    /// a failed call (it never authenticates on one).
    static func hostAdapterAnswer(_ decision: Decision, noCredentials: Bool) -> Answer {
        let errorMessage: String? =
            switch decision.verdict {
            case .allowed: nil
            case .denied where noCredentials: "no credentials"
            case .denied(let reason): reason.message
            case .indeterminate: "authorization server unavailable"
            }
        let principal = decision.isAllowed ? decision.principal : nil
        let body = JSONText.object([
            ("authenticated", .bool(principal != nil)),
            ("identity", principal.map { .raw(#"{"user_id":"# + $0.userIDJSON + "}") } ?? .null),
            ("claims", .raw(principal?.claimsJSON ?? "{}")),
            ("metadata", .raw("{}")),
            ("error_message", errorMessage.map { .string($0) } ?? .null),
        ])
        if case .indeterminate = decision.verdict { return Answer.json(body, status: .serviceUnavailable) }
        return Answer.json(body)
    }

    static func failure(_ error: String, status: HTTPResponse.Status) -> Response {
        failureAnswer(error, status: status).response
    }

    static func failureAnswer(_ error: String, status: HTTPResponse.Status) -> Answer {
        Answer.json(#"{"success":false,"error":"# + JSONText.string(error) + "}", status: status)
    }
}
