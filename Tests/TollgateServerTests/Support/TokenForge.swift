import Crypto
import CryptoExtras
import Foundation
import JWTKit
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// Builds JWS tokens byte by byte — including the hostile ones no well-behaved library will
/// produce — with real RSA and EC keys whose public halves the tests publish in a JWKS.
struct TokenForge {
    enum Signer {
        case rsa, ec, none
        case hmac(Data)
        case otherRSA(_RSA.Signing.PrivateKey)
        case raw(String)
    }

    let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let rsaKid = "forge-rsa-\(UUID().uuidString.prefix(8))"
    let ec = P256.Signing.PrivateKey()
    let ecKid = "forge-ec-\(UUID().uuidString.prefix(8))"

    var rsaJWK: String {
        let (n, e) = try! JWTKit.Insecure.RSA.PublicKey(backing: rsa.publicKey).getKeyPrimitives()
        return #"{"kty":"RSA","use":"sig","kid":"\#(rsaKid)","n":"\#(Self.b64(n))","e":"\#(Self.b64(e))"}"#
    }

    var ecJWK: String {
        let raw = ec.publicKey.rawRepresentation
        return #"{"kty":"EC","use":"sig","crv":"P-256","kid":"\#(ecKid)","x":"\#(Self.b64(raw.prefix(32)))","y":"\#(Self.b64(raw.suffix(32)))"}"#
    }

    var rsaPublicPEM: String { rsa.publicKey.pemRepresentation }

    static func b64(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    func token(header: [String: Any], claims: [String: Any], signer: Signer) -> String {
        segments(header: Self.b64(Self.json(header)), payload: Self.b64(Self.json(claims)), signer: signer)
    }

    func segments(header: String, payload: String, signer: Signer) -> String {
        let input = Data((header + "." + payload).utf8)
        let signature: String
        switch signer {
        case .rsa: signature = Self.b64(try! rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .otherRSA(let key): signature = Self.b64(try! key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ec: signature = Self.b64(try! ec.signature(for: input).rawRepresentation)
        case .hmac(let secret): signature = Self.b64(Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: secret))))
        case .none: signature = ""
        case .raw(let text): signature = text
        }
        return header + "." + payload + "." + signature
    }

    /// A well-formed RS256 at+jwt for `issuer`, with `changes` applied to header and claims.
    func valid(issuer: String, now: Double, header changes: [String: Any?] = [:], claims claimChanges: [String: Any?] = [:], signer: Signer = .rsa) -> String {
        var header: [String: Any] = ["alg": "RS256", "typ": "at+jwt", "kid": rsaKid]
        for (key, value) in changes { header[key] = value }
        var claims: [String: Any] = [
            "iss": issuer, "sub": "svc-client", "aud": "tollgate", "client_id": "svc-client", "scope": "read",
            "iat": Int(now), "nbf": Int(now), "exp": Int(now) + 600, "jti": UUID().uuidString,
        ]
        for (key, value) in claimChanges { claims[key] = value }
        return token(header: header, claims: claims, signer: signer)
    }
}
