import Foundation
import TollgateConfiguration
package import TollgateKit

/// `orthanc_push` of a runtime connection: Tollgate keeps a DICOMweb definition by this name in
/// Orthanc, carrying the connection's token, and removes it when the connection goes.
package struct OrthancPushSettings: Codable, Sendable, Equatable {
    /// The definition's name in Orthanc (`/dicom-web/servers/{name}`).
    package var name: String
    /// More of the definition (Orthanc's `WebServiceParameters`: `Timeout`, `HasDelete`, user
    /// properties); never `Url`, `HttpHeaders` or a password.
    package var extra: [String: JSONNode]

    package init(name: String, extra: [String: JSONNode] = [:]) {
        self.name = name
        self.extra = extra
    }
}

/// A connection's settings that are not secret, stored in the clear beside the sealed secrets.
package struct ConnectionSettings: Codable, Sendable, Equatable {
    package enum AuthMethod: String, Codable, Sendable, CaseIterable {
        case clientSecretBasic = "client_secret_basic"
        case clientSecretPost = "client_secret_post"
        /// A public client: no secret, PKCE only (authorization_code and refresh_token connections).
        case none
        /// A client assertion signed with the connection's sealed `private_key` (RFC 7523).
        case privateKeyJWT = "private_key_jwt"

        var usesClientSecret: Bool { self == .clientSecretBasic || self == .clientSecretPost }
    }

    package var clientID: String
    package var tokenURL: String
    package var authorizationURL: String?
    /// Space-separated, as the token request sends them.
    package var scopes: String
    package var authMethod: AuthMethod
    package var resource: String?
    /// The API's base URL, for `/proxy/{name}` and `orthanc_push` (optional otherwise).
    package var url: String?
    package var orthancPush: OrthancPushSettings?
    /// Authorization code only: the redirect URI registered at the IdP, when not
    /// `{registry.callback_base_url}/oauth/callback/{name}`.
    package var redirectURI: String?
    /// Authorization code only: the IdP's issuer identifier, which a callback's RFC 9207 `iss` must equal.
    package var issuer: String?
    /// Seed 002's display `name` (defaults to the connection name) and `description`.
    package var displayName: String?
    package var description: String?
    /// `private_key_jwt`: the `kid` the assertion's header names, when the IdP wants one.
    package var keyID: String?
    /// RFC 7009 endpoint, when the issuer's discovery document does not name one.
    package var revocationURL: String?

    package init(
        clientID: String, tokenURL: String, authorizationURL: String? = nil, scopes: String = "", authMethod: AuthMethod = .clientSecretBasic,
        resource: String? = nil, url: String? = nil, orthancPush: OrthancPushSettings? = nil, redirectURI: String? = nil, issuer: String? = nil,
        displayName: String? = nil, description: String? = nil, keyID: String? = nil, revocationURL: String? = nil
    ) {
        self.clientID = clientID
        self.tokenURL = tokenURL
        self.authorizationURL = authorizationURL
        self.scopes = scopes
        self.authMethod = authMethod
        self.resource = resource
        self.url = url
        self.orthancPush = orthancPush
        self.redirectURI = redirectURI
        self.issuer = issuer
        self.displayName = displayName
        self.description = description
        self.keyID = keyID
        self.revocationURL = revocationURL
    }

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
        case displayName = "name"
        case description
        case keyID = "key_id"
        case revocationURL = "revocation_url"
    }

    /// Every setting but the descriptive ones: what decides where tokens come from.
    var tokenSource: ConnectionSettings {
        var copy = self
        copy.displayName = nil
        copy.description = nil
        return copy
    }

    /// Whether a change to `before` sends the stored credential or tokens somewhere else: another
    /// token, authorization or revocation endpoint (an issuer's discovery names one), another
    /// client or another way of presenting the credential.
    func sendsCredentialsElsewhere(than before: ConnectionSettings) -> Bool {
        tokenURL != before.tokenURL || authorizationURL != before.authorizationURL || revocationURL != before.revocationURL
            || issuer != before.issuer || authMethod != before.authMethod || clientID != before.clientID
    }

    /// OIDC: the authorization request carries a nonce and the ID token is checked.
    var requestsOpenID: Bool { scopes.split(separator: " ").contains("openid") }

    /// The `scope` a token request sends, and the scope a token answered without one is taken to have.
    var requestedScope: String? { scopes.isEmpty ? nil : scopes }

    /// The column a store keeps: JSON the store wrote itself.
    func encoded() -> Data {
        (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
    }

    /// A stored row's settings; a row that does not read is a store fault, never a default.
    static func decoded(_ data: Data) throws(ConnectionStoreError) -> ConnectionSettings {
        do {
            return try JSONDecoder().decode(ConnectionSettings.self, from: data)
        } catch {
            throw ConnectionStoreError("a stored connection's settings are unreadable")
        }
    }
}
