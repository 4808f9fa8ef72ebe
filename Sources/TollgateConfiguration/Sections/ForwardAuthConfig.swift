import TollgateKit
/// `GET /auth`: which claims become identity headers, and the header that may add required scopes.
public struct ForwardAuthConfig: Sendable, Decodable {
    public var claimsToHeaders: [String: String] = [
        "sub": "X-Auth-Subject", "client_id": "X-Auth-Client-Id", "scope": "X-Auth-Scopes", "issuer": "X-Auth-Issuer",
    ]
    public var requiredScopesHeader: String = "X-Required-Scopes"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case claimsToHeaders = "claims_to_headers"
        case requiredScopesHeader = "required_scopes_header"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        claimsToHeaders = try c.decode(.claimsToHeaders, default: claimsToHeaders)
        requiredScopesHeader = try c.decode(.requiredScopesHeader, default: requiredScopesHeader)
    }
}
