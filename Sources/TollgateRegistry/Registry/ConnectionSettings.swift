import Foundation
import TollgateConfiguration

/// `orthanc_push` of a runtime connection: Tollgate keeps a DICOMweb definition by this name in
/// Orthanc, carrying the connection's token, and removes it when the connection goes.
public struct OrthancPushSettings: Codable, Sendable, Equatable {
    /// The definition's name in Orthanc (`/dicom-web/servers/{name}`).
    public var name: String
    /// More of the definition (Orthanc's `WebServiceParameters`: `Timeout`, `HasDelete`, user
    /// properties); never `Url`, `HttpHeaders` or a password.
    public var extra: [String: JSONValue]
}

/// A connection's settings that are not secret, stored in the clear beside the sealed secrets.
public struct ConnectionSettings: Codable, Sendable, Equatable {
    public enum AuthMethod: String, Codable, Sendable, CaseIterable {
        case clientSecretBasic = "client_secret_basic"
        case clientSecretPost = "client_secret_post"
    }

    public var clientID: String
    public var tokenURL: String
    public var authorizationURL: String?
    /// Space-separated, as the token request sends them.
    public var scopes: String
    public var authMethod: AuthMethod
    public var resource: String?
    /// The API's base URL, for `/proxy/{name}` and `orthanc_push` (optional otherwise).
    public var url: String?
    public var orthancPush: OrthancPushSettings?
    /// Authorization code only: the redirect URI registered at the IdP, when not
    /// `{registry.callback_base_url}/oauth/callback/{name}`.
    public var redirectURI: String?
    /// Authorization code only: the IdP's issuer identifier, which a callback's RFC 9207 `iss` must equal.
    public var issuer: String?
    public var createdBy: String?

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
        case tokenURL = "token_url"
        case authorizationURL = "authorization_url"
        case scopes
        case authMethod = "auth_method"
        case resource
        case url
        case orthancPush = "orthanc_push"
        case redirectURI = "redirect_uri"
        case issuer
        case createdBy = "created_by"
    }

    func encoded() -> Data {
        (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
    }

    static func decoded(_ data: Data) throws -> ConnectionSettings {
        do {
            return try JSONDecoder().decode(ConnectionSettings.self, from: data)
        } catch {
            throw RegistryError(.storeUnavailable, "a stored connection's settings are unreadable")
        }
    }
}
