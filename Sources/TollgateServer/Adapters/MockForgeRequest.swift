import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

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
    /// Shape B's request query; an RFC 6750 §2.3 `access_token` may sit there.
    var queryParams: [String: HeaderValue]?

    enum CodingKeys: String, CodingKey {
        case context, credentials
        case topLevelMethod = "method"
        case queryParams = "query_params"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        context = try c.decodeIfPresent(Context.self, forKey: .context)
        credentials = try c.decodeIfPresent(Credentials.self, forKey: .credentials)
        topLevelMethod = try? c.decodeIfPresent(String.self, forKey: .topLevelMethod)
        queryParams = try? c.decodeIfPresent([String: HeaderValue].self, forKey: .queryParams)
        if context == nil && credentials == nil {
            throw Invalid(message: "request must contain credentials or context")
        }
    }

    /// Shape B: the Rust host adapter sends plugin metadata and request facts, never credentials.
    var isHostAdapterShape: Bool { context?.pluginID != nil || topLevelMethod != nil }

    /// Shape B's only possible credential: `query_params.access_token` (exactly one, non-empty).
    var queryAccessToken: String? {
        guard case .one(let token)? = queryParams?["access_token"], !token.isEmpty else { return nil }
        return token
    }

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
