import Foundation
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit

/// Measures uncached local verification: the work a JWT decision costs on a cache miss — one
/// parse, key selection, jwt-kit signature check, claims — through Tollgate's own validator.
enum VerificationBenchmark {
    struct Result: Sendable {
        let verifications: Int
        let seconds: Double
        var perSecond: Double { Double(verifications) / seconds }
    }

    /// Verifies 256 distinct RS256 tokens from the dev issuer round robin, from `tasks` concurrent tasks, for about `seconds`.
    static func run(seconds: Double, tasks: Int) async throws -> Result {
        let issuerURL = "https://bench.invalid/dev-issuer"
        let client = DevClientConfig(clientID: "bench", clientSecret: "bench-secret", scopes: ["read"])
        let issuer = try await DevIssuer(config: DevIssuerConfig(enabled: true, clients: [client]), issuerURL: issuerURL, clock: SystemClock())
        var minted: [String] = []
        for _ in 0..<256 { minted.append(try await issuer.issue(to: client, scope: "read", resource: nil).accessToken) }
        guard let verifier = await LocalJWTVerifier(issuer: issuerURL, jwksJSON: issuer.jwksJSON, algorithms: [.rs256]) else {
            throw BenchError("the dev issuer's JWKS has no usable key")
        }
        let tokens = minted
        guard case .active = await verifier.verify(tokens[0]) else { throw BenchError("a freshly minted token did not verify") }
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let started = ContinuousClock.now
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<tasks {
                group.addTask {
                    var done = 0
                    while ContinuousClock.now < deadline {
                        guard case .active = await verifier.verify(tokens[(done + worker) % tokens.count]) else {
                            throw BenchError("verification failed mid-run")
                        }
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

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
