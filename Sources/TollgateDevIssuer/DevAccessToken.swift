import JWTKit

/// The RFC 9068 access token the dev issuer mints. Claims are checked by `DevIssuer` against its
/// own clock, so `verify(using:)` only proves the signature.
struct DevAccessToken: JWTPayload {
    let iss: String
    let sub: String
    let aud: String
    let client_id: String
    let scope: String
    let iat: Int
    let nbf: Int
    let exp: Int
    let jti: String

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
