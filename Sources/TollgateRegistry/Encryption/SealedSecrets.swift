package import Foundation

/// What a connection keeps secret: never in an API answer (the credentials endpoint alone returns
/// an access token), never in a log, and at rest only sealed.
package struct ConnectionSecrets: Sendable, Codable, Equatable {
    package var clientSecret: String?
    package var accessToken: String?
    package var refreshToken: String?
    /// The scope granted with `accessToken` (not secret; kept with the token it describes).
    package var tokenScope: String?
    /// The PKCE verifier of a pending authorization (sealed in its state row, never a connection's).
    package var codeVerifier: String?
    /// The OIDC nonce of a pending authorization (with `openid`), which its ID token must carry.
    package var nonce: String?
    /// `private_key_jwt`: the PEM key client assertions are signed with.
    package var privateKey: String?

    package init(
        clientSecret: String? = nil, accessToken: String? = nil, refreshToken: String? = nil, tokenScope: String? = nil,
        codeVerifier: String? = nil, nonce: String? = nil, privateKey: String? = nil
    ) {
        self.clientSecret = clientSecret
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenScope = tokenScope
        self.codeVerifier = codeVerifier
        self.nonce = nonce
        self.privateKey = privateKey
    }

    /// Drops the held access token and its scope (new credentials, an import, a dead grant).
    package mutating func forgetAccessToken() {
        accessToken = nil
        tokenScope = nil
    }

    enum CodingKeys: String, CodingKey {
        case clientSecret = "client_secret"
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenScope = "token_scope"
        case codeVerifier = "code_verifier"
        case nonce
        case privateKey = "private_key"
    }
}

/// A row's secrets under envelope encryption: `ciphertext` is AES-256-GCM under a data key of
/// its own, and `wrappedKey` is that data key under the registry key `keyID`. Both bind the row
/// id as associated data.
package struct SealedSecrets: Sendable, Equatable {
    package var keyID: String
    /// Nonce, ciphertext and tag of the 32-byte data key.
    package var wrappedKey: Data
    /// Nonce, ciphertext and tag of the secrets' JSON.
    package var ciphertext: Data

    package init(keyID: String, wrappedKey: Data, ciphertext: Data) {
        self.keyID = keyID
        self.wrappedKey = wrappedKey
        self.ciphertext = ciphertext
    }
}
