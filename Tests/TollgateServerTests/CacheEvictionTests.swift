import Crypto
import Foundation
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// `POST /admin/cache/evict`: a revoked token stops passing at once instead of after its cached
/// decision expires.
@Suite("cache eviction")
struct CacheEvictionTests {
    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func anEvictedTokenIsCheckedAgainAtOnce() async throws {
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
        }
        defer { Task { await tg.stop() } }
        let devIssuer = try #require(tg.app.devIssuer)
        let token = try await tg.token()
        let bearer = [("Authorization", "Bearer " + token)]
        #expect(try await tg.get("/auth", headers: bearer).status == 200)
        await devIssuer.revoke(token)
        #expect(try await tg.get("/auth", headers: bearer).status == 200, "the allowed decision is still cached")

        #expect(try await tg.post("/admin/cache/evict", json: #"{"token":"\#(token)"}"#, headers: []).status == 401, "an admin route")
        let evicted = try await tg.post("/admin/cache/evict", json: #"{"token":"\#(token)"}"#, headers: apiKeyHeader)
        #expect(evicted.status == 200 && evicted.json["evicted"] as? Bool == true && evicted.json["replicas_notified"] as? Bool == false)
        #expect(!evicted.body.contains(token))
        #expect(try await tg.get("/auth", headers: bearer).status == 401, "checked again: revoked")

        // By digest, without the token; a second eviction finds nothing; bad bodies are refused by name.
        let other = try await tg.token()
        #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + other)]).status == 200)
        let byDigest = try await tg.post("/admin/cache/evict", json: #"{"sha256":"\#(Self.sha256Hex(other).uppercased())"}"#, headers: apiKeyHeader)
        #expect(byDigest.json["evicted"] as? Bool == true)
        #expect(
            try await tg.post("/admin/cache/evict", json: #"{"sha256":"\#(Self.sha256Hex(other))"}"#, headers: apiKeyHeader).json["evicted"] as? Bool == false)
        for bad in [#"{}"#, #"{"sha256":"abc"}"#, #"{"token":""}"#, #"{"token":"a","sha256":"b"}"#, "[1]", "not json", #"{"token":42}"#] {
            let answer = try await tg.post("/admin/cache/evict", json: bad, headers: apiKeyHeader)
            #expect(answer.status == 400 && answer.json["error"] as? String == "INVALID_REQUEST", "\(bad)")
        }
    }
}
