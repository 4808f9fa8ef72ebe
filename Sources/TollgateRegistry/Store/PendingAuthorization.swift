/// An authorization request waiting for its callback. Only the SHA-256 of its state is kept,
/// and the PKCE verifier is sealed (row id `state/{hash}`), so the store's file cannot be used
/// to finish someone else's authorization. Taking it deletes it: a state works once.
package struct PendingAuthorization: Sendable, Equatable {
    /// Hex SHA-256 of the state sent to the IdP.
    package let stateHash: String
    package let connectionID: String
    /// `ConnectionSecrets.codeVerifier`, sealed.
    package let sealed: SealedSecrets
    /// The redirect URI of the authorization request, which the code exchange must repeat.
    package let redirectURI: String
    package let expiresAt: Double
    package let createdAt: Double

    package init(stateHash: String, connectionID: String, sealed: SealedSecrets, redirectURI: String, expiresAt: Double, createdAt: Double) {
        self.stateHash = stateHash
        self.connectionID = connectionID
        self.sealed = sealed
        self.redirectURI = redirectURI
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }

    /// The row id its verifier is sealed under.
    static func sealingID(stateHash: String) -> String { "state/" + stateHash }
}
