/// What a create or a change of a connection asks for, each member nil when not given. The HTTP
/// edge (Server's `ConnectionRequest`) reads it from JSON field by field; the registry checks what
/// the values mean (names, URLs, which credential a method needs).
package struct ConnectionInput: Sendable {
    package var connectionName: String?
    package var oauthFlowType: String?
    package var clientID: String?
    package var clientSecret: String?
    package var tokenURL: String?
    package var authorizationURL: String?
    /// Comma- or space-separated, as seed 002 and RFC 6749 write them.
    package var scopes: String?
    package var authMethod: String?
    /// RFC 7591's name for `authMethod`.
    package var tokenEndpointAuthMethod: String?
    package var resource: String?
    package var url: String?
    /// Absent (nil), removed (`.some(nil)`), or set.
    package var orthancPush: OrthancPushSettings??
    package var redirectURI: String?
    package var issuer: String?
    package var refreshToken: String?
    package var displayName: String?
    package var description: String?
    package var privateKey: String?
    package var keyID: String?
    package var revocationURL: String?

    package init() {}

    /// `auth_method`, or RFC 7591's `token_endpoint_auth_method` (the same when both are sent).
    func chosenAuthMethod() throws(RegistryError) -> ConnectionSettings.AuthMethod? {
        let given = [authMethod, tokenEndpointAuthMethod].compactMap { $0 }
        guard let value = given.first else { return nil }
        guard Set(given).count == 1, let method = ConnectionSettings.AuthMethod(rawValue: value) else {
            throw RegistryError(.invalidRequest, "auth_method must be one of client_secret_basic, client_secret_post, none, private_key_jwt")
        }
        return method
    }

    /// `settings` with what this change sets.
    func applied(to settings: ConnectionSettings) throws(RegistryError) -> ConnectionSettings {
        var settings = settings
        if let clientID { settings.clientID = clientID }
        if let tokenURL { settings.tokenURL = tokenURL }
        if let authorizationURL { settings.authorizationURL = authorizationURL }
        if let scopes { settings.scopes = ConnectionRules.normalizedScopes(scopes) }
        if let method = try chosenAuthMethod() { settings.authMethod = method }
        if let resource { settings.resource = resource }
        if let url { settings.url = url }
        if let redirectURI { settings.redirectURI = redirectURI }
        if let issuer { settings.issuer = issuer }
        if let displayName { settings.displayName = displayName }
        if let description { settings.description = description }
        if let keyID { settings.keyID = keyID }
        if let revocationURL { settings.revocationURL = revocationURL }
        if let orthancPush { settings.orthancPush = orthancPush }
        return settings
    }

    static func required(_ value: String?, _ key: String) throws(RegistryError) -> String {
        guard let value, !value.isEmpty else { throw RegistryError(.invalidRequest, "\(key) is required") }
        return value
    }
}
