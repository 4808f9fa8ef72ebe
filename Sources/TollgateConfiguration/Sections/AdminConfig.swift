import TollgateKit

public enum AdminAuthMode: String, ConfigEnum {
    case none
    case apiKey = "api_key"
    case bearer
}

/// `admin:` — who may use `/dicomweb-oauth/*`, `/token*` and `/proxy/*`.
public struct AdminConfig: Sendable, Decodable {
    public var authMode: AdminAuthMode = .apiKey
    /// Several keys may be valid at once, for rotation. Sent as `X-API-Key`.
    public var apiKeys: [Secret] = []
    /// bearer mode: scope the caller's token must carry (none: any valid token).
    public var requiredScope: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case authMode = "auth_mode"
        case apiKeys = "api_keys"
        case requiredScope = "required_scope"
    }

    public init(authMode: AdminAuthMode = .apiKey, apiKeys: [String] = []) {
        self.authMode = authMode
        self.apiKeys = apiKeys.map(Secret.init)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        authMode = try c.decode(.authMode, default: authMode)
        apiKeys = try c.decode(.apiKeys, default: apiKeys)
        requiredScope = try c.decodeOptional(.requiredScope)
    }
}
