import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// The orthanc-authorization web-service protocol: Orthanc's official authorization plugin
/// (Orthanc ≥ 1.11.3) and Tollgate's Python filter for Orthanc 1.10 call these three routes.
struct OrthancAuthAdapter {
    let authenticator: InboundAuthenticator
    let policy: PermissionPolicy
    let basicCredentials: SecretDigest?
    let maxBodyBytes: Int

    init(authenticator: InboundAuthenticator, config: OrthancConfig, maxBodyBytes: Int) {
        self.authenticator = authenticator
        self.policy = PermissionPolicy(config: config.permissions)
        if let user = config.webserviceUsername, let password = config.webservicePassword {
            basicCredentials = SecretDigest(BasicAuthorization.value(user: user, password: password.value))
        } else {
            basicCredentials = nil
        }
        self.maxBodyBytes = maxBodyBytes
    }

    struct ValidateRequest: Decodable {
        let method: String?
        let level: String?
        let uri: String?
        let tokenKey: String?
        let tokenValue: String?
        let userID: String?

        enum CodingKeys: String, CodingKey {
            case method, level, uri
            case tokenKey = "token-key"
            case tokenValue = "token-value"
            case userID = "user-id"
        }
    }

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.post("/tokens/validate") { request, context in await handle(request, context, validate) }
        router.post("/user/get-profile") { request, context in await handle(request, context, profile) }
        router.post("/tokens/decode") { request, context in await handle(request, context, decode) }
    }

    private func handle(
        _ request: Request, _ context: TollgateRequestContext,
        _ body: (ValidateRequest, String?, TollgateRequestContext) async -> Response
    ) async -> Response {
        if let expected = basicCredentials {
            guard expected.matches(request.headers[.authorization] ?? "") else {
                return Self.error("authentication to the web service failed", status: .unauthorized, requestID: context.requestID,
                                  headers: [.wwwAuthenticate: #"Basic realm="tollgate""#])
            }
        }
        let parsed: ValidateRequest
        do {
            let buffer = try await request.collectBody(limit: maxBodyBytes)
            parsed = try JSONDecoder().decode(ValidateRequest.self, from: buffer)
        } catch BodyError.tooLarge {
            return Self.error("request body too large", status: .contentTooLarge, requestID: context.requestID)
        } catch {
            return Self.error("body must be a JSON object", status: .badRequest, requestID: context.requestID)
        }
        return await body(parsed, token(from: parsed, request: request), context)
    }

    /// `token-value` (without its `Bearer ` prefix), else the request header named by `token-key`.
    private func token(from body: ValidateRequest, request: Request) -> String? {
        var raw = body.tokenValue
        if raw == nil, let key = body.tokenKey, let name = HTTPField.Name(key) { raw = request.headers[name] }
        guard let raw, !raw.isEmpty else { return nil }
        return BearerToken.fromAuthorization(raw) ?? raw
    }

    private func validate(_ body: ValidateRequest, _ token: String?, _ context: TollgateRequestContext) async -> Response {
        guard let method = body.method, let level = body.level else {
            return Self.error("method and level are required", status: .badRequest)
        }
        guard let token else {
            _ = authenticator.refuse(.missingToken, context: context)
            return Self.granted(false, validity: 0)
        }
        let decision = await authenticator.authenticate(token: token, context: context)
        guard decision.isAllowed else { return Self.granted(false, validity: authenticator.validitySeconds(of: decision, token: token)) }
        let claims = decision.principal?.claims ?? TokenClaims()
        let allowed = policy.check(method: method, level: level, claims: claims) == .allowed
        return Self.granted(allowed, validity: authenticator.validitySeconds(of: decision, token: token, refusedByCaller: !allowed))
    }

    private func profile(_ body: ValidateRequest, _ token: String?, _ context: TollgateRequestContext) async -> Response {
        guard let token else {
            return Self.error(body.userID != nil ? "profiles are looked up by token only" : "token-value is required", status: .badRequest)
        }
        let decision = await authenticator.authenticate(token: token, context: context)
        let validity = authenticator.validitySeconds(of: decision, token: token)
        switch decision.verdict {
        case .indeterminate(let reason):
            return Self.error("cannot decide: \(reason.message)", status: .serviceUnavailable)
        case .denied:
            return Reply.json(JSONText.object([
                ("name", .string("")), ("permissions", .strings([])), ("authorized-labels", .strings([])), ("validity", .int(validity)),
            ]), headers: [.cacheControl: "no-store"])
        case .allowed:
            let claims = decision.principal?.claims ?? TokenClaims()
            return Reply.json(JSONText.object([
                ("name", .string(claims.username ?? claims.subject ?? claims.clientID ?? "")),
                ("permissions", .strings(policy.permissions(of: claims))),
                ("authorized-labels", .strings(policy.labels(of: claims))),
                ("validity", .int(validity)),
                ("user-id", .string(claims.userID)),
                ("groups", .strings(policy.roles(of: claims))),
            ]), headers: [.cacheControl: "no-store"])
        }
    }

    private func decode(_ body: ValidateRequest, _ token: String?, _ context: TollgateRequestContext) async -> Response {
        guard let token else { return Self.decoded(error: "unknown") }
        let decision = await authenticator.authenticate(token: token, context: context)
        switch decision.verdict {
        case .allowed: return Reply.json(#"{"token-type":"bearer","resources":[]}"#, headers: [.cacheControl: "no-store"])
        case .denied(.expired): return Self.decoded(error: "expired")
        case .denied(.unknownIssuer), .denied(.missingToken): return Self.decoded(error: "unknown")
        case .denied: return Self.decoded(error: "invalid")
        case .indeterminate(let reason): return Self.error("cannot decide: \(reason.message)", status: .serviceUnavailable)
        }
    }

    private static func granted(_ granted: Bool, validity: Int) -> Response {
        Reply.json(#"{"granted":\#(granted),"validity":\#(max(0, validity))}"#, headers: [.cacheControl: "no-store"])
    }

    private static func decoded(error: String) -> Response {
        Reply.json(#"{"error-code":"\#(error)","resources":[]}"#, headers: [.cacheControl: "no-store"])
    }

    private static func error(_ message: String, status: HTTPResponse.Status, requestID: String = "", headers: HTTPFields = [:]) -> Response {
        var members: [(String, JSONText.Value)] = [("error", .string(message))]
        if !requestID.isEmpty { members.append(("request_id", .string(requestID))) }
        var headers = headers
        headers[.cacheControl] = "no-store"
        return Reply.json(JSONText.object(members), status: status, headers: headers)
    }
}
