import Synchronization
import Testing
import TollgateKit
@testable import TollgateInbound

@Suite("decision cache")
struct DecisionCacheTests {
    final class Counting: DecisionCacheObserver {
        let evictions = ManagedCount()
        func cacheHit(negative: Bool) {}
        func cacheMiss() {}
        func cacheCoalesced() {}
        func cacheEvicted(count: Int) { evictions.add(count) }
    }

    static func active(exp: Int?) -> TokenStatus {
        var claims = TokenClaims()
        claims.expiresAt = exp
        return .active(Principal(claims: claims), issuer: 0)
    }

    @Test func anEvictedKeyIsForgottenAndACheckAlreadyRunningDoesNotCacheIt() async {
        let clock = ManualClock(1000)
        let cache = DecisionCache(maxEntries: 10, lifetimes: .init(maxTTL: 300, negativeTTL: 10), clock: clock, observer: Counting())
        let key = TokenKey(token: "revoked-at-the-idp")
        _ = await cache.load(key) { Self.active(exp: 5000) }
        #expect(cache.remove(key))
        #expect(!cache.remove(key))
        #expect(cache.lookup(key) == nil)

        // A check that began before the eviction answers its caller, but its answer is not kept.
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let running = Task {
            await cache.load(key) {
                for await _ in gate {}; return Self.active(exp: 5000)
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        clock.advance(by: 1)
        cache.remove(key)
        open.finish()
        _ = await running.value
        #expect(cache.lookup(key) == nil)
        clock.advance(by: 1)
        _ = await cache.load(key) { Self.active(exp: 5000) }
        #expect(cache.lookup(key) != nil, "a check begun after the eviction is cached as usual")
    }

    @Test func tokenKeysRoundTripThroughTheirDigest() {
        let key = TokenKey(token: "some.jwt.value")
        #expect(TokenKey(sha256Hex: key.sha256Hex) == key)
        #expect(TokenKey(sha256Hex: key.sha256Hex.uppercased()) == key)
        #expect(key.sha256Hex.hasPrefix(key.fingerprint))
        for bad in ["", "abc", String(repeating: "g", count: 64), String(repeating: "a", count: 63), String(repeating: "a", count: 65)] {
            #expect(TokenKey(sha256Hex: bad) == nil)
        }
    }

    @Test func evictsAtMaxEntries() async {
        let clock = ManualClock(1000)
        let observer = Counting()
        let cache = DecisionCache(maxEntries: 3, lifetimes: .init(maxTTL: 300, negativeTTL: 10), clock: clock, observer: observer)
        for i in 0..<5 {
            _ = await cache.load(TokenKey(token: "t\(i)")) { Self.active(exp: 5000) }
        }
        #expect(cache.count == 3)
        #expect(observer.evictions.value == 2)
        #expect(cache.lookup(TokenKey(token: "t0")) == nil)
        #expect(cache.lookup(TokenKey(token: "t4")) != nil)
    }

    @Test func entryLifeIsFixedAtStoreTimeAndNeverPastExp() async {
        let clock = ManualClock(1000)
        let cache = DecisionCache(maxEntries: 10, lifetimes: .init(maxTTL: 300, negativeTTL: 10), clock: clock, observer: Counting())
        let key = TokenKey(token: "short")
        _ = await cache.load(key) { Self.active(exp: 1060) }
        for _ in 0..<5 {
            clock.advance(by: 10)
            #expect(cache.lookup(key) != nil)  // hits at 1010...1050 do not extend life
        }
        clock.advance(by: 10)
        #expect(cache.lookup(key) == nil)  // gone at exp (1060), well before max_ttl
    }

    @Test func missingExpCapsAtMaxTTLAndRefusalsAtNegativeTTL() async {
        let clock = ManualClock(1000)
        let cache = DecisionCache(maxEntries: 10, lifetimes: .init(maxTTL: 300, negativeTTL: 10), clock: clock, observer: Counting())
        _ = await cache.load(TokenKey(token: "noexp")) { Self.active(exp: nil) }
        _ = await cache.load(TokenKey(token: "bad")) { .rejected(.inactive, issuer: 0) }
        _ = await cache.load(TokenKey(token: "down")) { .indeterminate(.idpUnavailable, issuer: 0) }
        #expect(cache.lookup(TokenKey(token: "down")) == nil)
        clock.advance(by: 11)
        #expect(cache.lookup(TokenKey(token: "bad")) == nil)
        #expect(cache.lookup(TokenKey(token: "noexp")) != nil)
        clock.advance(by: 290)
        #expect(cache.lookup(TokenKey(token: "noexp")) == nil)
    }

    /// Memory follows the live decisions: a stream of one-off tokens (garbage, say) does not grow
    /// the cache towards max_entries once their refusals have expired.
    @Test func expiredEntriesAreSweptBeforeTheCacheFills() async {
        let clock = ManualClock(1000)
        let cache = DecisionCache(maxEntries: 100_000, lifetimes: .init(maxTTL: 300, negativeTTL: 10), clock: clock, observer: Counting())
        for i in 0..<5000 {
            _ = await cache.load(TokenKey(token: "garbage-\(i)")) { .rejected(.inactive, issuer: 0) }
        }
        #expect(cache.count == 5000)
        clock.advance(by: 11)
        // Each shard sweeps itself when it next stores; 400 stores reach all of them.
        for i in 0..<400 {
            _ = await cache.load(TokenKey(token: "later-\(i)")) { .rejected(.inactive, issuer: 0) }
        }
        #expect(cache.count == 400, "expired refusals still held: \(cache.count)")
    }

    @Test func concurrentMissesLoadOnce() async {
        let cache = DecisionCache(maxEntries: 10, lifetimes: .init(maxTTL: 300, negativeTTL: 10), clock: ManualClock(1000), observer: Counting())
        let loads = ManagedCount()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<500 {
                group.addTask {
                    _ = await cache.load(TokenKey(token: "same")) {
                        loads.add(1)
                        try? await Task.sleep(for: .milliseconds(50))
                        return Self.active(exp: 5000)
                    }
                }
            }
        }
        #expect(loads.value == 1)
    }
}

final class ManagedCount: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}

@Suite("decision cache sizing")
struct DecisionCacheSizingTests {
    @Test func shardsAreChosenSoThatFullTablesAreDense() {
        #expect(DecisionCache.shardCount(maxEntries: 10) == 1)
        #expect(DecisionCache.shardCount(maxEntries: 8191) == 1)
        #expect(DecisionCache.shardCount(maxEntries: 100_000) == 17)  // 5,882 per shard: 8,192 buckets, not 16,384
        for maxEntries in [8192, 50_000, 125_000, 1_000_000] {
            #expect((8...32).contains(DecisionCache.shardCount(maxEntries: maxEntries)))
        }
    }

    @Test func rarelyPresentClaimsReadBackAndCompareByValue() {
        var plain = TokenClaims()
        plain.subject = "s"
        plain.expiresAt = 2_000_000_000
        var same = plain
        same.roles = []
        same.username = nil
        #expect(same == plain)
        var rich = plain
        rich.roles = ["r"]
        rich.notBefore = 5
        rich.pathClaims = ["realm_access.roles": ["x"]]
        rich.userinfo = ["email": "e"]
        #expect(rich != plain)
        #expect(rich.roles == ["r"] && rich.notBefore == 5 && rich.pathClaims["realm_access.roles"] == ["x"] && rich.userinfo["email"] == "e")
        var copy = rich
        copy.roles = ["q"]
        #expect(rich.roles == ["r"] && copy.roles == ["q"])
        rich.notBefore = nil
        #expect(rich.notBefore == nil && plain.issuedAt == nil)
    }
}
