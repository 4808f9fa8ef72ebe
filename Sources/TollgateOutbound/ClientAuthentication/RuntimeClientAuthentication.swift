package import TollgateKit

/// How a registry connection's client authenticates at its IdP, with the credential it holds at
/// run time (opened from the registry's seal for one request, never kept).
package enum RuntimeClientAuthentication: Sendable {
    /// `client_secret_basic` or `client_secret_post`.
    case secret(ClientCredentials)
    /// `none`: a public client (PKCE only).
    case publicClient(clientID: String)
    /// `private_key_jwt` with a PEM RSA or P-256 key.
    case privateKeyJWT(clientID: String, pem: Secret, keyID: String?)

    package var clientID: String {
        switch self {
        case .secret(let credentials): credentials.clientID
        case .publicClient(let clientID), .privateKeyJWT(let clientID, _, _): clientID
        }
    }

    /// Whether a PEM is a key `private_key_jwt` can sign with.
    package static func isUsablePrivateKey(_ pem: String) -> Bool { PrivateKeyJWTAuthentication.isUsableKey(pem) }

    func authentication() async throws -> any TokenRequestAuthentication {
        switch self {
        case .secret(let credentials):
            ClientSecretAuthentication(credentials: credentials)
        case .publicClient(let clientID):
            PublicClientAuthentication(clientID: clientID)
        case .privateKeyJWT(let clientID, let pem, let keyID):
            try await PrivateKeyJWTAuthentication.load(clientID: clientID, pem: pem.value, keyID: keyID, named: "the connection's private_key")
        }
    }

    /// Removes the client's credential and `also` (the grant's own) from anything the IdP writes back.
    func scrubber(also: [String]) -> SecretScrubber {
        switch self {
        case .secret(let credentials):
            SecretScrubber(secrets: [credentials.secret.value] + also, basicPairs: [(credentials.clientID, credentials.secret.value)])
        case .publicClient:
            SecretScrubber(secrets: also)
        case .privateKeyJWT(_, let pem, _):
            SecretScrubber(secrets: [pem.value] + also)
        }
    }
}
