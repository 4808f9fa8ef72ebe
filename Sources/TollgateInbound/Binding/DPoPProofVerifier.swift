import Foundation
import Synchronization
package import TollgateConfiguration
package import TollgateKit

/// Checks a DPoP proof (RFC 9449 §4.3) for a token bound to a key (`cnf.jkt`, §7.1): one proof, a
/// JWS of type `dpop+jwt` signed with an asymmetric algorithm the issuer allows by the public key
/// in its header (no private members), naming this request (`htm`, `htu`), recent (`iat`), for
/// this token (`ath`), by the bound key (the RFC 7638 thumbprint), and never seen before (`jti`).
/// The signature is jwt-kit's; the thumbprints and hashes swift-crypto's.
package struct DPoPProofVerifier: Sendable {
    package enum Failure: Error, Equatable {
        /// The proof is missing, malformed, or does not fit the request; the text is for the log.
        case invalid(String)
        case replayed
        /// The proof is valid but by another key than the token's.
        case keyMismatch
        /// The replay cache is full of live entries: a replay could not be told.
        case replayCacheFull
        /// The replicas' shared ledger could not be asked.
        case replayLedgerUnavailable
        /// Nonces are required and the proof has none, or one no longer accepted (`use_dpop_nonce`).
        case nonceRequired
    }

    private let maxAge: Double
    private let skew: Double
    private let replay: DPoPReplayCache
    private let clock: any TollgateClock
    private let keys = ProofKeys()
    private let ledger: (any DPoPReplayLedger)?
    /// Set when proofs must carry a server nonce (`inbound.dpop.require_nonce`).
    package let nonces: DPoPNonces?

    package init(settings: DPoPConfig, clock: any TollgateClock, ledger: (any DPoPReplayLedger)? = nil, nonces: DPoPNonces? = nil) {
        self.nonces = nonces
        maxAge = Double(settings.proofMaxAgeSeconds)
        skew = Double(settings.clockSkewSeconds)
        replay = DPoPReplayCache(capacity: settings.replayCacheEntries, clock: clock)
        self.clock = clock
        self.ledger = ledger
    }

    /// Nil when `presentation` proves possession of the key `thumbprint` names, for `token`.
    package func check(
        _ presentation: TokenPresentation, token: String, boundTo thumbprint: String, algorithms: [JWSAlgorithmName]
    ) async -> Failure? {
        guard presentation.proofs.count == 1, let text = presentation.proofs.first else {
            return .invalid(presentation.proofs.isEmpty ? "no DPoP proof" : "more than one DPoP proof")
        }
        let proof: ParsedProof
        do {
            proof = try ParsedProof(text)
        } catch {
            return error
        }
        guard let algorithm = proof.header["alg"]?.string.flatMap(JWSAlgorithmName.init(rawValue:)), algorithms.contains(algorithm) else {
            return .invalid("algorithm not allowed for this issuer")
        }
        guard let typ = proof.header["typ"]?.string, typ.lowercased() == "dpop+jwt" else { return .invalid("typ is not dpop+jwt") }
        guard !proof.header.contains("crit") else { return .invalid("crit is not understood") }
        guard let jwk = proof.header["jwk"]?.object else { return .invalid("no jwk in the header") }
        if let failure = Self.publicKeyProblem(jwk, algorithm: algorithm) { return .invalid(failure) }
        guard let keyThumbprint = JWKThumbprint.sha256(jwk) else { return .invalid("jwk lacks a required member") }
        guard let key = await keys.key(for: jwk, thumbprint: keyThumbprint, algorithm: algorithm) else { return .invalid("jwk is not a usable key") }
        guard key.verifies(signature: proof.signature, over: proof.signingInput) else { return .invalid("signature does not verify") }

        guard let jti = proof.claims["jti"]?.string, !jti.isEmpty, jti.utf8.count <= 256 else { return .invalid("jti missing or too long") }
        guard let htm = proof.claims["htm"]?.string, let method = presentation.method, htm == method else {
            return .invalid(presentation.method == nil ? "the request's method is unknown" : "htm is not the request's method")
        }
        guard let htu = proof.claims["htu"]?.string.flatMap(ProofTargetURI.init), let uri = presentation.uri.flatMap(ProofTargetURI.init),
            htu == uri
        else { return .invalid(presentation.uri == nil ? "the request's URI is unknown" : "htu is not the request's URI") }
        guard let iat = proof.claims["iat"]?.number, iat.isFinite else { return .invalid("iat missing") }
        let now = clock.now()
        guard iat <= now + skew, iat >= now - maxAge else { return .invalid("iat outside the accepted window") }
        guard let ath = proof.claims["ath"]?.string, ath == Base64URL.sha256(token) else { return .invalid("ath is not this token's hash") }
        guard keyThumbprint == thumbprint else { return .keyMismatch }
        if let nonces {
            // Checked before the jti is used up: the client signs a new proof with the nonce anyway.
            guard let nonce = proof.claims["nonce"]?.string, nonces.accepts(nonce) else { return .nonceRequired }
        }
        let until = iat + maxAge + skew
        switch replay.use(jti: jti, thumbprint: keyThumbprint, until: until) {
        case .fresh: break
        case .replayed: return .replayed
        case .full: return .replayCacheFull
        }
        guard let ledger else { return nil }
        do {
            return try await ledger.recordOnce(key: "dpop:" + SecretDigest.sha256Hex(keyThumbprint + " " + jti), until: until) ? nil : .replayed
        } catch {
            return .replayLedgerUnavailable
        }
    }

    /// Why `jwk` cannot verify a proof signed with `algorithm`, or nil.
    static func publicKeyProblem(_ jwk: JSONObject, algorithm: JWSAlgorithmName) -> String? {
        for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] where jwk.contains(member) {
            return "jwk holds a private or symmetric key member"
        }
        guard let kty = jwk["kty"]?.string, VerificationKey.accepts(algorithm, kty: kty, curve: jwk["crv"]?.string) else {
            return "the key type does not fit the algorithm"
        }
        if let declared = jwk["alg"], declared.string != algorithm.rawValue { return "jwk names another algorithm" }
        if let use = jwk["use"], use.string != "sig" { return "jwk is not a signing key" }
        return nil
    }
}

/// A proof split and decoded once; nothing in it is believed before the signature is checked.
private struct ParsedProof {
    let header: JSONObject
    let claims: JSONObject
    let signature: [UInt8]
    let signingInput: [UInt8]

    init(_ text: String) throws(DPoPProofVerifier.Failure) {
        guard text.utf8.count <= 8192 else { throw .invalid("proof too large") }
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }) else { throw .invalid("not a compact JWS") }
        guard let headerJSON = Base64URL.decode(String(segments[0])), let claimsJSON = Base64URL.decode(String(segments[1])),
            let signature = Base64URL.decode(String(segments[2]))
        else { throw .invalid("not base64url") }
        guard let header = try? StrictJSON.object(headerJSON), let claims = try? StrictJSON.object(claimsJSON) else {
            throw .invalid("header or claims are not a JSON object")
        }
        self.header = header
        self.claims = claims
        self.signature = signature
        signingInput = Array(text.utf8.prefix(segments[0].utf8.count + 1 + segments[1].utf8.count))
    }
}

/// jwt-kit verifiers for the keys proofs came with, by algorithm and thumbprint (which fixes the
/// public key): a client signs every request with the same key. Bounded; emptied when full.
private final class ProofKeys: Sendable {
    private let verifiers = Mutex<[String: VerificationKey]>([:])
    private static let capacity = 10_000

    func key(for jwk: JSONObject, thumbprint: String, algorithm: JWSAlgorithmName) async -> VerificationKey? {
        let name = algorithm.rawValue + " " + thumbprint
        if let known = verifiers.withLock({ $0[name] }) { return known }
        var members: [String: JSONNode] = [:]
        for (member, value) in jwk.members { members[member] = value }
        let document = #"{"keys":["# + JSONNode.rendered(object: members) + "]}"
        guard let key = await VerificationKey.parse(jwks: Data(document.utf8), allowed: [algorithm])?.first else { return nil }
        verifiers.withLock { table in
            if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            table[name] = key
        }
        return key
    }
}
