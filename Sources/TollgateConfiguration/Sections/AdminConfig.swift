package import TollgateKit

package enum AdminAuthMode: String, ConfigEnum {
    case none
    case apiKey = "api_key"
    case bearer
    /// A client certificate (`server.tls.client_auth` optional or required) named in `client_certificates`.
    case mtls
}

/// `admin:` — who may use `/dicomweb-oauth/*`, `/token*` and `/proxy/*`.
package struct AdminConfig: Sendable, Decodable {
    package var authMode: AdminAuthMode = .apiKey
    /// Several keys may be valid at once, for rotation. Sent as `X-API-Key`.
    package var apiKeys: [Secret] = []
    /// bearer mode: scope the caller's token must carry (none: any valid token).
    package var requiredScope: String?
    /// mtls mode: accepted certificates, by the subject's common name (`CN=…`) or a subject
    /// alternative name (`DNS:…`, `URI:…`, `email:…`, `IP:…`).
    package var clientCertificates: [String] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case authMode = "auth_mode"
        case apiKeys = "api_keys"
        case requiredScope = "required_scope"
        case clientCertificates = "client_certificates"
    }

    package init(authMode: AdminAuthMode = .apiKey, apiKeys: [String] = []) {
        self.authMode = authMode
        self.apiKeys = apiKeys.map(Secret.init)
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        authMode = try c.decode(.authMode, default: authMode)
        apiKeys = try c.decode(.apiKeys, default: apiKeys)
        requiredScope = try c.decodeOptional(.requiredScope)
        clientCertificates = try c.decode(.clientCertificates, default: clientCertificates)
    }
}
