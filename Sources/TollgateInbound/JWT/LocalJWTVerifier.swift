import Foundation
package import TollgateConfiguration
package import TollgateKit

/// The JWT path of a cache miss on its own, against a JWKS held in memory: one parse of the
/// token, key selection and jwt-kit's signature check, then the claims. `tollgate-bench verify`
/// measures this; it is the same validator an issuer in `jwt` mode uses.
package struct LocalJWTVerifier: Sendable {
    private let validator: JWTValidator

    /// Nil when the JWKS has no key usable with `algorithms`.
    package init?(issuer: String, jwksJSON: String, algorithms: [JWSAlgorithmName], clock: any TollgateClock = SystemClock()) async {
        guard let keys = await VerificationKey.parse(jwks: Data(jwksJSON.utf8), allowed: algorithms), !keys.isEmpty else { return nil }
        let settings = JWKSConfig()
        let keySet = JWKSKeySet(
            issuerName: "local", source: StaticJWKS(keys: keys, lifetime: Double(settings.maxCacheSeconds)),
            settings: settings, clock: clock, observer: NoJWKSObserver())
        guard case .loaded = await keySet.refresh() else { return nil }
        validator = JWTValidator(issuerURL: issuer, allowed: Set(algorithms), requireTyp: nil, keys: keySet, leeway: 0, clock: clock)
    }

    /// The verdict for one token, never cached.
    package func verify(_ token: String) async -> TokenStatus {
        guard let jws = try? CompactJWS(token) else { return .rejected(.notJWT, issuer: 0) }
        return await validator.validate(jws, issuer: 0)
    }
}

private struct StaticJWKS: JWKSSource {
    let keys: [VerificationKey]
    let lifetime: Double
    func download() async -> Result<([VerificationKey], Double), JWKSError> { .success((keys, lifetime)) }
}

struct NoJWKSObserver: JWKSObserver {
    func jwksFetched(issuer: String, result: String, keys: Int, at: Double) {}
}
