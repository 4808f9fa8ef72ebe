import Foundation
import JWTKit

/// Measures uncached local verification (`tollgate bench-verify`): the work a JWT decision costs
/// on a cache miss — JWS structure, key selection, jwt-kit signature check, claims decoding.
public enum VerificationBenchmark {
    public struct Result: Sendable {
        public let verifications: Int
        public let seconds: Double
        public var perSecond: Double { Double(verifications) / seconds }
    }

    /// Verifies fresh RS256 tokens from `tasks` concurrent tasks for about `seconds`.
    public static func run(seconds: Double, tasks: Int) async throws -> Result {
        let issuer = "https://bench.invalid/issuer"
        let key = try DevSigningKey.load(pemFile: nil)
        let signing = JWTKeyCollection()
        await signing.add(rsa: key.privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.kid))
        guard let keys = await VerificationKey.parse(jwks: Data("{\"keys\":[\(key.jwkJSON)]}".utf8), allowed: [.rs256]) else {
            throw JWKSError("benchmark key unusable")
        }
        let now = Int(Date().timeIntervalSince1970)
        var minted: [String] = []
        for i in 0..<256 {
            let payload = DevAccessToken(iss: issuer, sub: "bench", aud: "bench", client_id: "bench", scope: "read",
                                         iat: now, nbf: now, exp: now + 3600, jti: "bench-\(i)")
            minted.append(try await signing.sign(payload, kid: JWKIdentifier(string: key.kid), header: ["typ": .string("at+jwt")]))
        }
        let tokens = minted
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let started = ContinuousClock.now
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<tasks {
                group.addTask {
                    var done = 0
                    while ContinuousClock.now < deadline {
                        let token = tokens[(done + worker) % tokens.count]
                        let jws = try CompactJWS(token)
                        let candidates = keys.filter { $0.kid == jws.header.kid && $0.algorithm.rawValue == jws.header.alg }
                        guard let key = candidates.first else { throw JWKSError("no key") }
                        _ = try await key.collection.verify(token, as: JWTAccessClaims.self)
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Result(verifications: count, seconds: (ContinuousClock.now - started).seconds)
    }
}
