import TollgateKit
import TollgateConfiguration

/// Local verification of JWT access tokens (RFC 9068) against an issuer's keys, following
/// RFC 8725: algorithm allowlist, algorithm bound to key type, no `none`, no symmetric keys,
/// token-supplied key locations (`jku`, `x5u`, `jwk`) ignored, unknown `crit` refused.
struct JWTValidator: Sendable {
    let issuerURL: String
    let allowed: Set<JWSAlgorithmName>
    let requireTyp: String?
    let keys: JWKSKeySet
    let leeway: Double
    let clock: any TollgateClock

    func validate(_ jws: CompactJWS, issuer index: Int) async -> TokenStatus {
        func reject(_ reason: DenialReason) -> TokenStatus { .rejected(reason, issuer: index) }
        let header = jws.header
        guard let algName = header.alg, let algorithm = JWSAlgorithmName(rawValue: algName), allowed.contains(algorithm) else {
            return reject(.algorithm)
        }
        if header.hasCritical { return reject(.unsupportedHeader) }
        if let required = requireTyp, !Self.typMatches(header.typ, required: required) { return reject(.wrongType) }
        guard let current = keys.currentKeys() else { return .indeterminate(.keysUnavailable, issuer: index) }

        var candidates: [VerificationKey]
        if let kid = header.kid {
            var withKid = current.filter { $0.kid == kid }
            if withKid.isEmpty, await keys.refetchForUnknownKid() {
                withKid = keys.currentKeys()?.filter { $0.kid == kid } ?? []
            }
            guard !withKid.isEmpty else { return reject(.unknownKey) }
            candidates = withKid.filter { $0.algorithm == algorithm }
            guard !candidates.isEmpty else { return reject(.algorithm) }
        } else {
            // RFC 7515 makes kid optional: try every key that fits the algorithm (Oathkeeper #362).
            candidates = current.filter { $0.algorithm == algorithm }
            guard !candidates.isEmpty else { return reject(.unknownKey) }
        }
        guard candidates.contains(where: { $0.verifies(jws) }) else { return reject(.invalidSignature) }
        guard var claims = jws.payload.claims else { return reject(.notJWT) }
        guard claims.issuer == issuerURL else { return reject(.issuerMismatch) }
        claims.issuer = issuerURL  // equal, and one shared buffer instead of a copy per cached decision
        guard let exp = claims.expiresAt else { return reject(.missingExpiry) }
        if Double(exp) + leeway <= clock.now() { return reject(.expired) }
        return .active(Principal(claims: claims), issuer: index)
    }

    /// RFC 9068 §4: `at+jwt`, with or without the `application/` prefix, case-insensitively.
    static func typMatches(_ typ: String?, required: String) -> Bool {
        func normalized(_ value: String) -> String {
            let lower = value.lowercased()
            return lower.hasPrefix("application/") ? String(lower.dropFirst("application/".count)) : lower
        }
        guard let typ else { return false }
        return normalized(typ) == normalized(required)
    }
}
