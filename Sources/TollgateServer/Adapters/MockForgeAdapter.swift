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
        do {
            message = try MockForgeRequest(json: body.readableBytesView)
        } catch {
            return Self.failure(error.message, status: .badRequest)
        }

        context.noteAuditDetails { note in
            note.method = message.guardedMethod.flatMap { AuditEvent.clean($0.uppercased(), limit: 16) }
            // Never the query: it may carry the token.
            note.path = message.guardedURI.flatMap { AuditEvent.clean(String($0.prefix { $0 != "?" && $0 != "#" }), limit: 512) }
        }
        if !message.hasCredentials, message.isHostAdapterShape {
            guard let token = message.queryAccessToken else {
                return Self.hostAdapterAnswer(authenticator.refuse(.missingToken, context: context), noCredentials: true)
            }
            return Self.hostAdapterAnswer(await authenticator.authenticate(token: token, context: context), noCredentials: false)
        }
        if let (token, presentation) = message.dpopPresentation {
            let decision = await authenticator.authenticate(token: token, context: context, presentation: presentation)
            var response = Self.answer(decision)
            // For a host that hands response headers back to its client; the plugin body has no place for it.
            response.headers[.dpopNonce] = decision.dpopNonce
            return response
        }
        guard let token = message.bearerToken else {
            let reason: DenialReason = message.hasNonBearerCredential ? .unsupportedCredential : .missingToken
            return Self.answer(authenticator.refuse(reason, context: context))
        }
        return Self.answer(await authenticator.authenticate(token: token, context: context))
    }

    static func answer(_ decision: Decision) -> Response {
        switch decision.verdict {
        case .allowed:
            let claims = decision.principal!.claims
            var out = TextBuffer(capacity: 512)
            out.append(bytes: #"{"success":true,"result":{"authenticated":true,"user_id":"#)
            out.appendJSONString(claims.userID)
            out.append(bytes: #","claims":"#)
            claims.appendJSON(to: &out)
            out.append(bytes: "}}")
            return Reply.bytes(out.bytes, contentType: "application/json")
        case .denied(let reason):
            var error = reason.message
            if reason == .scope { error += ": " + decision.missingScopes.joined(separator: " ") }
            return Reply.json(#"{"success":true,"result":{"authenticated":false,"user_id":"","claims":{"error":"# + JSONText.string(error) + "}}}")
        case .indeterminate:
            return failure("authorization server unavailable", status: .serviceUnavailable)
        }
    }

    /// Shape B's reply, without the SDK envelope. Undecided is a non-2xx, which the host treats as
    /// a failed call (it never authenticates on one).
    static func hostAdapterAnswer(_ decision: Decision, noCredentials: Bool) -> Response {
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
        if case .indeterminate = decision.verdict { return Reply.json(body, status: .serviceUnavailable) }
        return Reply.json(body)
    }

    static func failure(_ error: String, status: HTTPResponse.Status) -> Response {
        Reply.json(#"{"success":false,"error":"# + JSONText.string(error) + "}", status: status)
    }
}
