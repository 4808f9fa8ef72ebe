/// What a token request asks for (RFC 6749 §4.1.3, §4.4, §6). The code, verifier and refresh
/// token are credentials: they travel only in the form body and are scrubbed from any answer.
package enum TokenGrant: Sendable {
    case clientCredentials
    /// §6; RFC 6749 lets the scope be omitted, which keeps the originally granted one.
    case refreshToken(String)
    /// §4.1.3 with PKCE (RFC 7636 §4.5): the code, the redirect URI sent with the authorization
    /// request, and the verifier behind its S256 challenge.
    case authorizationCode(code: String, redirectURI: String, codeVerifier: String)

    var formFields: [(String, String)] {
        switch self {
        case .clientCredentials:
            [("grant_type", "client_credentials")]
        case .refreshToken(let token):
            [("grant_type", "refresh_token"), ("refresh_token", token)]
        case .authorizationCode(let code, let redirectURI, let verifier):
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        }
    }

    /// The grant's own credentials, for the scrubber.
    var secrets: [String] {
        switch self {
        case .clientCredentials: []
        case .refreshToken(let token): [token]
        case .authorizationCode(let code, _, let verifier): [code, verifier]
        }
    }

    /// Only a client-credentials request names its scope and resource; the others inherit them.
    var sendsScope: Bool {
        if case .clientCredentials = self { return true }
        return false
    }
}
