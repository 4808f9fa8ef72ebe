import Foundation
import NIOHTTP1
import Testing
@testable import Tollgate

@Suite("building blocks")
struct UnitTests {
    @Test func formEncodingRoundTripsRFC6749Characters() {
        let secret = "p@ss word&=+/:é"
        let encoded = FormEncoding.encode(secret)
        #expect(encoded == "p%40ss+word%26%3D%2B%2F%3A%C3%A9")
        #expect(FormEncoding.decode(encoded) == secret)
        #expect(FormEncoding.decode("%zz") == nil)
        #expect(FormEncoding.parse("a=1&a=2") == nil)
        #expect(FormEncoding.parse("token=abc&token_type_hint=access_token") == ["token": "abc", "token_type_hint": "access_token"])
    }

    @Test func bearerHeaderParsing() {
        #expect(BearerToken.fromAuthorization("Bearer abc.def") == "abc.def")
        #expect(BearerToken.fromAuthorization("bearer   abc ") == "abc")
        #expect(BearerToken.fromAuthorization("Bearer") == "")
        #expect(BearerToken.fromAuthorization("Basic dXNlcjpwdw==") == nil)
        #expect(BearerToken.fromAuthorization("Bearerabc") == nil)
        #expect(BearerToken.fromAuthorization("BEARER abc\t") == "abc")
        #expect(BearerToken.fromAuthorization("Bearér abc") == nil)
        #expect(BearerToken.fromAuthorization("Bearer \t ") == "")
    }

    @Test func tokenSyntax() {
        #expect(BearerToken.isWellFormed("eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln"))
        #expect(BearerToken.isWellFormed("abc=="))
        #expect(!BearerToken.isWellFormed("abc def"))
        #expect(!BearerToken.isWellFormed("a=b"))
        #expect(!BearerToken.isWellFormed("<script>"))
        #expect(!BearerToken.isWellFormed(""))
        #expect(!BearerToken.isWellFormed("=abc"))
        #expect(!BearerToken.isWellFormed("abc\u{7F}"))
        #expect(!BearerToken.isWellFormed("abcé"))
        #expect(BearerToken.isWellFormed("AZaz09-._~+/"))
        // Every ASCII byte: exactly the b64token set is accepted.
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/".utf8)
        for byte in UInt8(0)..<128 where byte != UInt8(ascii: "=") {
            #expect(BearerToken.isWellFormed(String(decoding: [UInt8(ascii: "a"), byte], as: UTF8.self)) == allowed.contains(byte))
        }
    }

    @Test func upstreamConnectionHeaderDropsEveryHeaderItNames() {
        let upstream = HTTPHeaders([
            ("Connection", "keep-alive, X-Hop-A ,\tx-hop-b"), ("X-Hop-A", "1"), ("X-Hop-B", "2"), ("Keep-Alive", "timeout=5"),
            ("Set-Cookie", "s=1"), ("Content-Type", "application/dicom+json"), ("ETag", "\"v1\""),
        ])
        let names = ProxyHeaders.callerResponseHeaders(from: upstream).map { $0.name.canonicalName }
        #expect(names == ["content-type", "etag"])
    }

    @Test func claimListsAreSharedAndTheInternerIsBounded() {
        let interner = StringListInterner(limit: 2)
        let first = interner.intern(["read", "write"])
        let second = interner.intern(["read"] + ["write"])
        #expect(second == ["read", "write"])
        #expect(first.withUnsafeBufferPointer { $0.baseAddress } == second.withUnsafeBufferPointer { $0.baseAddress })
        _ = interner.intern(["a"])
        let past = ["b"]
        let kept = interner.intern(past)
        #expect(kept == ["b"])
        #expect(interner.intern(["b"]).withUnsafeBufferPointer { $0.baseAddress } != kept.withUnsafeBufferPointer { $0.baseAddress })
        var claims = TokenClaims()
        claims.scopes = ["read", "write"]
        guard case .active(let principal, 3) = interner.interning(.active(Principal(claims: claims), issuer: 3)) else {
            Issue.record("an active status stays active, for the same issuer")
            return
        }
        #expect(principal.claims.scopes.withUnsafeBufferPointer { $0.baseAddress } == first.withUnsafeBufferPointer { $0.baseAddress })
    }

    @Test func requestIDsAreUniqueAndUUIDShaped() {
        let ids = RequestIDs()
        let made = (0..<1000).map { _ in ids.next() }
        #expect(Set(made).count == 1000)
        let shape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
        #expect(made.allSatisfy { $0.wholeMatch(of: shape) != nil })
        #expect(made[0].prefix(18) == made[999].prefix(18))  // the per-process half
        #expect(RequestIDs().next().prefix(18) != made[0].prefix(18))
    }

    @Test func tokenKeyIsSHA256AndFingerprintIsShort() {
        let a = TokenKey(token: "token-a")
        #expect(a == TokenKey(token: "token-a"))
        #expect(a != TokenKey(token: "token-b"))
        // SHA-256("token-a") begins 0x...; the fingerprint is 12 hex digits of it, never the token.
        #expect(a.fingerprint.count == 12)
        #expect(!a.fingerprint.contains("token"))
    }

    @Test func jsonTextEscapes() {
        #expect(JSONText.string("a\"b\\c\n\u{01}") == #""a\"b\\c\n\u0001""#)
        let object = JSONText.object([("s", .string("x")), ("n", .int(3)), ("l", .strings(["a", "b"])), ("b", .bool(true))])
        let parsed = try? JSONSerialization.jsonObject(with: Data(object.utf8)) as? [String: Any]
        #expect(parsed?["n"] as? Int == 3)
        #expect(parsed?["l"] as? [String] == ["a", "b"])
    }

    @Test func policyChecksTimeAudienceAndScopes() {
        let policy = Policy(audiences: ["api"], requiredScopes: ["read", "write"], leewaySeconds: 30)
        var claims = TokenClaims()
        claims.audiences = ["api"]
        claims.scopes = ["read", "write", "admin"]
        claims.expiresAt = 1000
        #expect(policy.violation(of: claims, now: 1020) == nil)
        #expect(policy.violation(of: claims, now: 1030)?.0 == .expired)
        claims.notBefore = 1100
        #expect(policy.violation(of: claims, now: 1000)?.0 == .notYetValid)
        claims.notBefore = nil
        claims.audiences = ["other"]
        #expect(policy.violation(of: claims, now: 900)?.0 == .audience)
        claims.audiences = ["api"]
        claims.scopes = ["read"]
        let scope = policy.violation(of: claims, now: 900)
        #expect(scope?.0 == .scope)
        #expect(scope?.missing == ["write"])
    }
}

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
        #expect(cache.lookup(key) == nil)      // gone at exp (1060), well before max_ttl
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

import Synchronization
