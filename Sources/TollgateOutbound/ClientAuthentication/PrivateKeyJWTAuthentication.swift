import Foundation
import JWTKit
import NIOHTTP1

/// `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a fresh client assertion per token request,
/// signed with jwt-kit — RS256 for an RSA key, ES256 for a P-256 key.
struct PrivateKeyJWTAuthentication: TokenRequestAuthentication {
    static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// RFC 7523 §3 asks for a short life; IdPs commonly refuse more than 5 minutes.
    static let lifetimeSeconds = 120

    enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        case unsupportedKey(String)
        var description: String {
            switch self {
            case .unreadable(let path): "cannot read \(path)"
            case .unsupportedKey(let path): "\(path) is not a PEM RSA or P-256 EC private key"
            }
        }
    }

    let clientID: String
    private let keys: JWTKeyCollection
    private let kid: JWKIdentifier?
    let algorithm: String

    static func load(clientID: String, pemFile: String, keyID: String?) async throws -> PrivateKeyJWTAuthentication {
        guard let pem = try? String(contentsOfFile: pemFile, encoding: .utf8) else { throw LoadError.unreadable(pemFile) }
        return try await load(clientID: clientID, pem: pem, keyID: keyID, named: pemFile)
    }

    /// From the PEM itself (a registry connection's sealed key); `named` is what an error calls it.
    static func load(clientID: String, pem: String, keyID: String?, named: String) async throws -> PrivateKeyJWTAuthentication {
        let keys = JWTKeyCollection()
        let kid = keyID.map { JWKIdentifier(string: $0) }
        if let rsa = try? Insecure.RSA.PrivateKey(pem: pem) {
            await keys.add(rsa: rsa, digestAlgorithm: .sha256, kid: kid)
            return PrivateKeyJWTAuthentication(clientID: clientID, keys: keys, kid: kid, algorithm: "RS256")
        }
        if let ec = try? ES256PrivateKey(pem: pem) {
            await keys.add(ecdsa: ec, kid: kid)
            return PrivateKeyJWTAuthentication(clientID: clientID, keys: keys, kid: kid, algorithm: "ES256")
        }
        throw LoadError.unsupportedKey(named)
    }

    /// Whether `pem` is a private key this method can sign with (RSA, or EC P-256).
    static func isUsableKey(_ pem: String) -> Bool {
        (try? Insecure.RSA.PrivateKey(pem: pem)) != nil || (try? ES256PrivateKey(pem: pem)) != nil
    }

    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws {
        let assertion = try await assertion(audience: endpoint, now: now)
        form += [("client_id", clientID), ("client_assertion_type", Self.assertionType), ("client_assertion", assertion)]
    }

    /// iss = sub = client_id, aud = the token endpoint, a fresh jti every time.
    func assertion(audience: String, now: Double) async throws -> String {
        let issuedAt = Date(timeIntervalSince1970: now.rounded(.down))
        let payload = ClientAssertion(
            iss: IssuerClaim(value: clientID),
            sub: SubjectClaim(value: clientID),
            aud: AudienceClaim(value: audience),
            exp: ExpirationClaim(value: issuedAt.addingTimeInterval(Double(Self.lifetimeSeconds))),
            iat: IssuedAtClaim(value: issuedAt),
            nbf: NotBeforeClaim(value: issuedAt),
            jti: IDClaim(value: UUID().uuidString.lowercased())
        )
        return try await keys.sign(payload, kid: kid)
    }
}

struct ClientAssertion: JWTPayload {
    let iss: IssuerClaim
    let sub: SubjectClaim
    let aud: AudienceClaim
    let exp: ExpirationClaim
    let iat: IssuedAtClaim
    let nbf: NotBeforeClaim
    let jti: IDClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
