import Foundation
import JWTKit
import NIOHTTP1
import TollgateConfiguration

/// `google_service_account`: the JWT-bearer grant (RFC 7523 §2.1) exactly as Google documents it
/// for service accounts: `iss` = `sub` = the key's `client_email`, `aud` = its `token_uri`, the
/// scopes in a `scope` claim, one hour of life, RS256 with `kid` = `private_key_id`. The grant is
/// itself the credential, so it replaces the client-credentials form.
struct GoogleServiceAccountGrant: TokenRequestAuthentication {
    static let grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Google's ceiling for `exp - iat`.
    static let lifetimeSeconds = 3600

    /// The fields of a service-account key file Tollgate reads; the rest are ignored.
    struct KeyFile: Decodable {
        let type: String?
        let clientEmail: String
        let privateKey: String
        let privateKeyID: String
        let tokenURI: String

        enum CodingKeys: String, CodingKey {
            case type
            case clientEmail = "client_email"
            case privateKey = "private_key"
            case privateKeyID = "private_key_id"
            case tokenURI = "token_uri"
        }
    }

    let clientEmail: String
    let tokenURI: String
    let scope: String
    private let keys: JWTKeyCollection
    private let kid: JWKIdentifier

    /// Reads and checks the key file once, at start. Errors name the file and the field, never a value.
    static func load(file path: String, scope: String) async throws -> GoogleServiceAccountGrant {
        let key: KeyFile
        do {
            key = try JSONDecoder().decode(KeyFile.self, from: CredentialFile.read(path))
        } catch let error as CredentialUnavailable {
            throw error
        } catch DecodingError.keyNotFound(let field, _) {
            throw CredentialUnavailable(detail: "\(path) has no \(field.stringValue)")
        } catch {
            throw CredentialUnavailable(detail: "\(path) is not a service account key (JSON with client_email, private_key, private_key_id, token_uri)")
        }
        guard key.type == nil || key.type == "service_account" else {
            throw CredentialUnavailable(detail: "\(path) is not a service account key (type must be service_account)")
        }
        guard TollgateConfig.isHTTPURL(key.tokenURI) else {
            throw CredentialUnavailable(detail: "\(path): token_uri is not an absolute http(s) URL")
        }
        guard !key.clientEmail.isEmpty, !key.privateKeyID.isEmpty else {
            throw CredentialUnavailable(detail: "\(path): client_email and private_key_id must not be empty")
        }
        guard let rsa = try? Insecure.RSA.PrivateKey(pem: key.privateKey) else {
            throw CredentialUnavailable(detail: "\(path): private_key is not a PEM RSA private key")
        }
        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: key.privateKeyID)
        await keys.add(rsa: rsa, digestAlgorithm: .sha256, kid: kid)
        return GoogleServiceAccountGrant(clientEmail: key.clientEmail, tokenURI: key.tokenURI, scope: scope, keys: keys, kid: kid)
    }

    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws {
        form = [("grant_type", Self.grantType), ("assertion", try await assertion(now: now))]
    }

    func assertion(now: Double) async throws -> String {
        let issuedAt = Date(timeIntervalSince1970: now.rounded(.down))
        let claims = GoogleGrantAssertion(
            iss: IssuerClaim(value: clientEmail), sub: SubjectClaim(value: clientEmail), aud: AudienceClaim(value: tokenURI),
            scope: scope, iat: IssuedAtClaim(value: issuedAt),
            exp: ExpirationClaim(value: issuedAt.addingTimeInterval(Double(Self.lifetimeSeconds)))
        )
        return try await keys.sign(claims, kid: kid)
    }
}

struct GoogleGrantAssertion: JWTPayload {
    let iss: IssuerClaim
    let sub: SubjectClaim
    let aud: AudienceClaim
    let scope: String
    let iat: IssuedAtClaim
    let exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
