import TollgateInbound
import TollgateKit

/// The request body of either MockForge shape. Only the members Tollgate reads are converted
/// (credentials, the `Authorization` header, shape B's markers and `access_token`); each of them
/// must have its documented type, and everything else in the body is left unread.
struct MockForgeRequest {
    struct Invalid: Error, Equatable { let message: String }

    /// Present exactly when `credentials` is (its `type` is required).
    var credentialType: String?
    var credentialToken: String?
    var authorizationHeader: String?
    var pluginID: String?
    /// The request MockForge asks about (`context.method`, `context.uri`), for the audit record only.
    var guardedMethod: String?
    var guardedURI: String?
    var topLevelMethod: String?
    /// Shape B's request query: an RFC 6750 §2.3 `access_token` may sit there (exactly one value).
    var queryAccessToken: String?
    /// What a DPoP-bound token needs (RFC 9449): the `DPoP` header values, and the guarded
    /// request's host and scheme for the URI its proof must name.
    var dpopProofs: [String] = []
    var hostHeader: String?
    var forwardedProto: String?

    init(json body: some Collection<UInt8>) throws(Invalid) {
        let root: JSONNode
        do { root = try StrictJSON.parse(body) } catch { throw Invalid(message: "request body is not valid JSON") }
        guard case .object(let object) = root else { throw Invalid(message: "request body must be a JSON object") }

        let context = try Self.member(object, "context", path: "context", as: \.object)
        if let context {
            if let headers = try Self.member(context, "headers", path: "context.headers", as: \.object) {
                for (name, value) in headers.members {
                    if ASCIIText.equalsIgnoringCase(name, lowercase: "authorization"), authorizationHeader == nil {
                        authorizationHeader = try Self.firstValue(value, path: "context.headers")
                    } else if ASCIIText.equalsIgnoringCase(name, lowercase: "dpop") {
                        dpopProofs += try Self.allValues(value, path: "context.headers")
                    } else if ASCIIText.equalsIgnoringCase(name, lowercase: "host") {
                        hostHeader = try Self.firstValue(value, path: "context.headers")
                    } else if ASCIIText.equalsIgnoringCase(name, lowercase: "x-forwarded-proto") {
                        forwardedProto = try Self.firstValue(value, path: "context.headers")
                    }
                }
            }
            pluginID = try Self.member(context, "plugin_id", path: "context.plugin_id", as: \.string)
            guardedMethod = context["method"]?.string
            guardedURI = context["uri"]?.string
        }
        let credentials = try Self.member(object, "credentials", path: "credentials", as: \.object)
        if let credentials {
            guard let type = try Self.member(credentials, "type", path: "credentials.type", as: \.string) else {
                throw Invalid(message: "field credentials.type is required")
            }
            credentialType = type
            credentialToken = try Self.member(credentials, "token", path: "credentials.token", as: \.string)
        }
        if context == nil && credentials == nil { throw Invalid(message: "request must contain credentials or context") }
        // Shape B's own members are read leniently: a wrong type reads as absent.
        topLevelMethod = object["method"]?.string
        if case .string(let token)? = object["query_params"]?.object?["access_token"], !token.isEmpty { queryAccessToken = token }
    }

    /// A member that is absent or `null` is nil; one of another type than `kind` is an error naming it.
    private static func member<Value>(
        _ object: JSONObject, _ name: String, path: String,
        as kind: KeyPath<JSONNode, Value?>
    ) throws(Invalid) -> Value? {
        guard let node = object[name], node != .null else { return nil }
        guard let value = node[keyPath: kind] else { throw Invalid(message: "field \(path) has the wrong type") }
        return value
    }

    /// Every value of a header: a string, or a list of strings.
    private static func allValues(_ node: JSONNode, path: String) throws(Invalid) -> [String] {
        if let text = node.string { return [text] }
        guard let list = node.strings else { throw Invalid(message: "field \(path) has the wrong type") }
        return list
    }

    /// A header value: a string, or a list of strings of which the first is used.
    private static func firstValue(_ node: JSONNode, path: String) throws(Invalid) -> String? {
        if let text = node.string { return text }
        guard let list = node.strings else { throw Invalid(message: "field \(path) has the wrong type") }
        return list.first
    }

    var hasCredentials: Bool { credentialType != nil }

    /// Shape B: the Rust host adapter sends plugin metadata and request facts, never credentials.
    var isHostAdapterShape: Bool { pluginID != nil || topLevelMethod != nil }

    var hasNonBearerCredential: Bool {
        if let credentialType { return !ASCIIText.equalsIgnoringCase(credentialType, lowercase: "bearer") }
        if let authorizationHeader, case .failure(.unsupportedCredential) = BearerToken.extractWithScheme(fromAuthorization: [authorizationHeader]) {
            return true
        }
        return false
    }

    /// `Authorization: DPoP` in `context.headers`: the token, and the proof with the request it
    /// must name (`context.method`; `context.uri` when absolute, else the `Host` header with
    /// `X-Forwarded-Proto` or `http`, MockForge's own listener). Nil for any other credential.
    var dpopPresentation: (token: String, presentation: TokenPresentation)? {
        guard credentialType == nil, let authorizationHeader,
            case .success((let token, .dpop)) = BearerToken.extractWithScheme(fromAuthorization: [authorizationHeader])
        else { return nil }
        var uri = guardedURI
        if let relative = guardedURI, relative.hasPrefix("/") {
            uri = hostHeader.map { (forwardedProto?.lowercased() ?? "http") + "://" + $0 + relative }
        }
        return (token, TokenPresentation(scheme: .dpop, proofs: dpopProofs, method: guardedMethod, uri: uri))
    }

    /// `credentials.token` when the credential is a bearer one, else the `Authorization: Bearer`
    /// header from `context.headers` (name matched case-insensitively). Nil means none was given.
    var bearerToken: String? {
        if let credentialType {
            guard ASCIIText.equalsIgnoringCase(credentialType, lowercase: "bearer") else { return nil }
            if let token = credentialToken, !token.isEmpty { return token }
        }
        guard let header = authorizationHeader else { return nil }
        guard let token = BearerToken.fromAuthorization(header), !token.isEmpty else { return nil }
        return token
    }
}
