import Foundation
import Hummingbird

/// MockForge's remote-plugin protocol: `POST /plugin/authenticate` (SDK shape A, and the host
/// adapter's shape B answered gracefully). Maps the wire format onto `InboundAuthenticator`.
struct MockForgeAdapter {
    let authenticator: InboundAuthenticator
    let maxBodyBytes: Int

    func register(on router: Router<TollgateRequestContext>) {
        router.post("/plugin/authenticate") { request, context in
            await authenticate(request, context: context)
        }
    }

    func authenticate(_ request: Request, context: TollgateRequestContext) async -> Response {
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
            message = try JSONDecoder().decode(MockForgeRequest.self, from: body)
        } catch {
            return Self.failure(Self.explain(error), status: .badRequest)
        }

        if message.credentials == nil, message.isHostAdapterShape {
            return Reply.json(#"{"authenticated":false,"identity":null,"claims":{},"metadata":{},"error_message":"no credentials"}"#)
        }
        guard let token = message.bearerToken else {
            let reason: DenialReason = message.hasNonBearerCredential ? .unsupportedCredential : .missingToken
            return Self.answer(authenticator.refuse(reason))
        }
        let decision = await authenticator.authenticate(token: token)
        if case .denied = decision.verdict {
            context.logger.debug("token refused", metadata: ["reason": .string(decision.reasonLabel), "issuer": .string(decision.issuer ?? "none")])
        }
        return Self.answer(decision)
    }

    static func answer(_ decision: Decision) -> Response {
        switch decision.verdict {
        case .allowed:
            let principal = decision.principal!
            return Reply.json(#"{"success":true,"result":{"authenticated":true,"user_id":"# + principal.userIDJSON + #","claims":"# + principal.claimsJSON + "}}")
        case .denied(let reason):
            var error = reason.message
            if reason == .scope { error += ": " + decision.missingScopes.joined(separator: " ") }
            return Reply.json(#"{"success":true,"result":{"authenticated":false,"user_id":"","claims":{"error":"# + JSONText.string(error) + "}}}")
        case .indeterminate:
            return failure("authorization server unavailable", status: .serviceUnavailable)
        }
    }

    static func failure(_ error: String, status: HTTPResponse.Status) -> Response {
        Reply.json(#"{"success":false,"error":"# + JSONText.string(error) + "}", status: status)
    }

    /// Names what was wrong with a request body, without repeating any of it.
    static func explain(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "request body must be a JSON object"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "field \(ConfigError.render(context.codingPath)) has the wrong type"
        case DecodingError.keyNotFound(let key, let context):
            return "field \(ConfigError.render(context.codingPath + [key])) is required"
        case let error as MockForgeRequest.Invalid:
            return error.message
        default:
            return "request body is not valid JSON"
        }
    }
}

extension Decision {
    var reasonLabel: String {
        switch verdict {
        case .allowed: "ok"
        case .denied(let reason): reason.rawValue
        case .indeterminate(let reason): reason.rawValue
        }
    }
}

/// The request body of either MockForge shape.
struct MockForgeRequest: Decodable {
    struct Invalid: Error { let message: String }

    struct Context: Decodable {
        var headers: [String: HeaderValue]?
        var pluginID: String?

        enum CodingKeys: String, CodingKey {
            case headers
            case pluginID = "plugin_id"
        }
    }

    /// Header values are strings; a list (several values) is accepted and the first one used.
    enum HeaderValue: Decodable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .one(text)
            } else {
                self = .many(try container.decode([String].self))
            }
        }

        var first: String? {
            switch self {
            case .one(let text): text
            case .many(let list): list.first
            }
        }
    }

    struct Credentials: Decodable {
        var type: String
        var token: String?
    }

    var context: Context?
    var credentials: Credentials?
    var topLevelMethod: String?

    enum CodingKeys: String, CodingKey {
        case context, credentials
        case topLevelMethod = "method"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        context = try c.decodeIfPresent(Context.self, forKey: .context)
        credentials = try c.decodeIfPresent(Credentials.self, forKey: .credentials)
        topLevelMethod = try? c.decodeIfPresent(String.self, forKey: .topLevelMethod)
        if context == nil && credentials == nil {
            throw Invalid(message: "request must contain credentials or context")
        }
    }

    /// Shape B: the Rust host adapter sends plugin metadata and request facts, never credentials.
    var isHostAdapterShape: Bool { context?.pluginID != nil || topLevelMethod != nil }

    var hasNonBearerCredential: Bool {
        if let credentials { return !ASCIIText.equalsIgnoringCase(credentials.type, lowercase: "bearer") }
        if let header = authorizationHeader { return BearerToken.fromAuthorization(header) == nil }
        return false
    }

    /// `credentials.token` when the credential is a bearer one, else the `Authorization: Bearer`
    /// header from `context.headers` (name matched case-insensitively). Nil means none was given.
    var bearerToken: String? {
        if let credentials {
            guard ASCIIText.equalsIgnoringCase(credentials.type, lowercase: "bearer") else { return nil }
            if let token = credentials.token, !token.isEmpty { return token }
        }
        guard let header = authorizationHeader else { return nil }
        guard let token = BearerToken.fromAuthorization(header), !token.isEmpty else { return nil }
        return token
    }

    private var authorizationHeader: String? {
        context?.headers?.first(where: { ASCIIText.equalsIgnoringCase($0.key, lowercase: "authorization") })?.value.first
    }
}
