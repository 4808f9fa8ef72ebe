import Testing
@testable import TollgateInbound

@Suite("inbound building blocks")
struct InboundBuildingBlockTests {
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

    @Test func tokenKeyIsSHA256AndFingerprintIsShort() {
        let a = TokenKey(token: "token-a")
        #expect(a == TokenKey(token: "token-a"))
        #expect(a != TokenKey(token: "token-b"))
        // SHA-256("token-a") begins 0x...; the fingerprint is 12 hex digits of it, never the token.
        #expect(a.fingerprint.count == 12)
        #expect(!a.fingerprint.contains("token"))
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

    @Test func requestPathsAreNormalisedAsTheUpstreamResolvesThem() {
        let cases: [(String, String?)] = [
            ("/dicom-web/studies?x=1", "/dicom-web/studies"),
            ("/a/../b", "/b"), ("/a/./b/", "/a/b/"), ("//admin//x", "/admin/x"), ("/..", "/"), ("/a/..", "/"),
            ("/%61dmin", "/admin"), ("/%2e%2E/admin", "/admin"), ("/a%2fb", "/a%2Fb"), ("/a%2Fb", "/a%2Fb"), ("/x#frag", "/x"),
            ("/", "/"), ("relative", nil), ("", nil), ("http://h/x", nil), ("/a%zz", nil), ("/a%2", nil), ("/a b", nil), ("/a\u{1}", nil),
        ]
        for (raw, expected) in cases {
            #expect(RequestPath.normalized(Substring(raw)) == expected, "\(raw)")
        }
        #expect(RequestFacts(method: "get", uri: "/x", host: "PACS.Example.org:8443")?.host == "pacs.example.org")
        #expect(RequestFacts(method: "get", uri: "/x", host: "[::1]:80")?.host == "[::1]")
        #expect(RequestFacts(method: "get", uri: "/x", host: nil)?.method == "GET")
    }

    @Test func accessRulesMatchMethodPathAndHostFirstWins() throws {
        let rules = AccessRules(rules: [
            try AccessRule(name: "a", methods: ["get"], path: "^/x/", host: "*.example.org", access: .anonymous),
            try AccessRule(name: "b", methods: [], path: "^/x/[0-9]+$", host: nil, access: .token(.none)),
            try AccessRule(name: "c", methods: [], path: "studies", host: nil, access: .token(.none)),
        ], denyUnmatched: true)
        func name(_ method: String, _ path: String, _ host: String? = nil) -> String? {
            RequestFacts(method: method, uri: Substring(path), host: host.map { $0[...] }).flatMap { rules.rule(for: $0)?.name }
        }
        #expect(name("GET", "/x/1", "a.example.org") == "a")
        #expect(name("GET", "/x/1", "example.org") == "b")
        #expect(name("POST", "/x/1", "a.example.org") == "b")
        #expect(name("POST", "/x/1a") == nil)
        #expect(name("GET", "/dicom-web/studies/1") == "c", "an unanchored pattern searches")
        #expect(PathPattern.literalPrefix(of: "^/x/") == "/x/")
    }
}
