import Crypto
import CryptoExtras
import Foundation
import JWTKit
import TollgateKit

/// The dev issuer's RS256 key: generated at start, or loaded from a PEM file.
struct DevSigningKey: Sendable {
    let privateKey: JWTKit.Insecure.RSA.PrivateKey
    let kid: String
    /// The public JWK, as published in the JWKS.
    let jwkJSON: String

    static func load(pemFile: String?) throws -> DevSigningKey {
        let key: JWTKit.Insecure.RSA.PrivateKey
        if let pemFile {
            key = try JWTKit.Insecure.RSA.PrivateKey(pem: String(contentsOfFile: pemFile, encoding: .utf8))
        } else {
            key = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
        let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
        let n = Base64URL.encode(modulus)
        let e = Base64URL.encode(exponent)
        // RFC 7638 thumbprint: stable across restarts when the key comes from a file.
        let thumbprintInput = "{\"e\":\"\(e)\",\"kty\":\"RSA\",\"n\":\"\(n)\"}"
        let kid = Base64URL.encode(Data(SHA256.hash(data: Data(thumbprintInput.utf8))))
        let jwk = JSONText.object([
            ("kty", .string("RSA")), ("use", .string("sig")), ("alg", .string("RS256")),
            ("kid", .string(kid)), ("n", .string(n)), ("e", .string(e)),
        ])
        return DevSigningKey(privateKey: key, kid: kid, jwkJSON: jwk)
    }
}
