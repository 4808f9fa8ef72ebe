package import TollgateKit

package struct DevIssuerConfig: Sendable, Decodable {
    package var enabled: Bool = false
    /// Overrides the derived `http://{server.host}:{server.port}/dev-issuer` (e.g. behind a container name).
    package var issuer: String?
    package var tokenTTLSeconds: Int = 3600
    package var signingKeyFile: String?
    /// `aud` of issued tokens when the token request names no `resource`.
    package var audience: String = "tollgate"
    package var clients: [DevClientConfig] = []
    /// The dev issuer mints tokens for whoever reaches it, so it is refused on a non-loopback
    /// listen address unless this says, explicitly, that such exposure is intended.
    package var allowNonLoopback: Bool = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, issuer, audience, clients
        case allowNonLoopback = "allow_non_loopback"
        case tokenTTLSeconds = "token_ttl_seconds"
        case signingKeyFile = "signing_key_file"
    }

    package init(enabled: Bool = false, clients: [DevClientConfig] = []) {
        self.enabled = enabled
        self.clients = clients
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        issuer = try c.decodeOptional(.issuer)
        tokenTTLSeconds = try c.decode(.tokenTTLSeconds, default: tokenTTLSeconds)
        signingKeyFile = try c.decodeOptional(.signingKeyFile)
        audience = try c.decode(.audience, default: audience)
        clients = try c.decode(.clients, default: clients)
        allowNonLoopback = try c.decode(.allowNonLoopback, default: allowNonLoopback)
    }
}

package struct DevClientConfig: Sendable, Decodable {
    package var clientID: String
    package var clientSecret: Secret
    package var scopes: [String] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case scopes
    }

    package init(clientID: String, clientSecret: String, scopes: [String]) {
        self.clientID = clientID
        self.clientSecret = Secret(clientSecret)
        self.scopes = scopes
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        clientID = try c.decode(.clientID)
        clientSecret = try c.decode(.clientSecret)
        scopes = try c.decode(.scopes, default: scopes)
    }
}
