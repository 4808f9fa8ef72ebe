package import Foundation
import JWTKit
import TollgateKit
package import TollgateConfiguration

/// One public key from a JWKS bound to exactly one algorithm, so that Tollgate — never the
/// token's header — decides which key and algorithm verify a token. The signature check itself
/// is jwt-kit's (BoringSSL through swift-crypto).
package struct VerificationKey: Sendable {
    let kid: String?
    let algorithm: JWSAlgorithmName
    let verifier: any JWTAlgorithm

    func verifies(_ jws: CompactJWS) -> Bool {
        verifies(signature: jws.signature, over: jws.signingInput)
    }

    func verifies(signature: [UInt8], over signingInput: [UInt8]) -> Bool {
        (try? verifier.verify(signature, signs: signingInput)) == true
    }

    /// Key type (and curve) each algorithm requires: RFC 8725 §3.1 binds algorithm to key.
    static func accepts(_ algorithm: JWSAlgorithmName, kty: String, curve: String?) -> Bool {
        switch algorithm {
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: kty == "RSA"
        case .es256: kty == "EC" && curve == "P-256"
        case .es384: kty == "EC" && curve == "P-384"
        case .es512: kty == "EC" && curve == "P-521"
        case .eddsa: kty == "OKP" && curve == "Ed25519"
        }
    }

    /// The usable keys of a JWKS document, or nil when the document itself is unreadable.
    /// Keys of other types (`oct`), for encryption, or whose algorithm is not allowed are skipped.
    package static func parse(jwks data: Data, allowed: [JWSAlgorithmName]) async -> [VerificationKey]? {
        // Strict first: a key set with a repeated member (two `n`s, two `keys`) is refused as a whole.
        guard (try? StrictJSON.parse(data)) != nil,
            let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let entries = document["keys"] as? [[String: Any]]
        else { return nil }
        var keys: [VerificationKey] = []
        for (index, var entry) in entries.enumerated() {
            guard let kty = entry["kty"] as? String, (entry["use"] as? String ?? "sig") == "sig" else { continue }
            for privateMember in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] { entry[privateMember] = nil }
            let kid = entry["kid"] as? String
            let curve = entry["crv"] as? String
            let declared = (entry["alg"] as? String).map { JWSAlgorithmName(rawValue: $0) }
            let candidates = allowed.filter { algorithm in
                VerificationKey.accepts(algorithm, kty: kty, curve: curve) && (declared == nil || declared! == algorithm)
            }
            for algorithm in candidates {
                let name = kid ?? "tollgate-unnamed-\(index)"
                entry["alg"] = algorithm.rawValue
                entry["kid"] = name
                guard let json = try? JSONSerialization.data(withJSONObject: entry),
                    let jwk = try? JSONDecoder().decode(JWK.self, from: json)
                else { continue }
                let collection = JWTKeyCollection()
                guard (try? await collection.add(jwk: jwk, isDefault: true)) != nil,
                    let verifier = try? await collection.getKey(for: JWKIdentifier(string: name), alg: algorithm.rawValue)
                else { continue }
                keys.append(VerificationKey(kid: kid, algorithm: algorithm, verifier: verifier))
            }
        }
        return keys
    }
}
