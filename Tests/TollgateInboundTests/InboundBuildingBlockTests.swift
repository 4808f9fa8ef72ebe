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
        #expect(BearerToken.fromAuthorization("  Bearer x") == "x")
        #expect(BearerToken.fromAuthorization("Bearer\tx") == nil)
        #expect(BearerToken.fromAuthorization("   ") == nil)
        // As a body hands a token over: with or without the scheme; nothing is nil.
        #expect(BearerToken.fromPresented(" Bearer  y ") == "y")
        #expect(BearerToken.fromPresented("e30.e30.sig") == "e30.e30.sig")
        #expect(BearerToken.fromPresented("Bearer") == nil)
        #expect(BearerToken.fromPresented(" \t") == nil)
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

    @Test func verifiedShareTokensKeepTheNewestWithinTheirCapacity() {
        let verified = VerifiedShareTokens(capacity: 3)
        func entry(_ n: Int) -> VerifiedShareTokens.Verified {
            VerifiedShareTokens.Verified(
                type: "viewer-instant-link", resources: [OrthancResource(level: "study", dicomUID: "1.\(n)")], serverID: nil, expiresAt: n)
        }
        for n in 1...3 { verified.remember(TokenKey(token: "t\(n)"), entry(n)) }
        // Seen again: kept where it was, not counted twice.
        verified.remember(TokenKey(token: "t1"), entry(1))
        #expect((1...3).allSatisfy { verified.lookup(TokenKey(token: "t\($0)")) != nil })
        for n in 4...5 { verified.remember(TokenKey(token: "t\(n)"), entry(n)) }
        #expect(verified.lookup(TokenKey(token: "t1")) == nil)
        #expect(verified.lookup(TokenKey(token: "t2")) == nil)
        #expect((3...5).map { verified.lookup(TokenKey(token: "t\($0)"))?.expiresAt } == [3, 4, 5])
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

    @Test func requestFactsNameHostAndMethodOneWay() throws {
        #expect(try RequestFacts(method: "get", uri: "/x", host: "PACS.Example.org:8443").host == "pacs.example.org")
        #expect(try RequestFacts(method: "get", uri: "/x", host: "[::1]:80").host == "[::1]")
        #expect(try RequestFacts(method: "get", uri: "/x", host: nil).method == "GET")
        #expect(try RequestFacts(method: nil, uri: "/x", host: nil).method == nil)
        #expect(throws: RequestPath.Ambiguous.self) { try RequestFacts(method: "GET", uri: "/a%2Fb", host: nil) }
    }

    @Test func accessRulesMatchMethodPathAndHostFirstWins() throws {
        let rules = AccessRules(
            rules: [
                try AccessRule(name: "a", methods: ["get"], path: "^/x/", host: "*.example.org", access: .anonymous),
                try AccessRule(name: "b", methods: [], path: "^/x/[0-9]+$", host: nil, access: .token(.none)),
                try AccessRule(name: "c", methods: [], path: "studies", host: nil, access: .token(.none)),
            ], denyUnmatched: true)
        func name(_ method: String?, _ path: String, _ host: String? = nil) throws -> String {
            switch rules.verdict(for: try RequestFacts(method: method, uri: Substring(path), host: host.map { $0[...] })) {
            case .anonymous(let rule): rule.name
            case .token(_, let rule): rule?.name ?? "default"
            case .refused(let reason, _): reason.rawValue
            }
        }
        #expect(try name("GET", "/x/1", "a.example.org") == "a")
        #expect(try name("GET", "/x/1", "example.org") == "b")
        #expect(try name("POST", "/x/1", "a.example.org") == "b")
        #expect(try name("POST", "/x/1a") == "no_rule")
        #expect(try name("GET", "/dicom-web/studies/1") == "c", "an unanchored pattern searches")
        // A fact the proxy did not send, which the first rule on the path needs: refused, never skipped.
        #expect(try name(nil, "/x/1", "a.example.org") == "unknown_request")
        #expect(try name("GET", "/x/1") == "unknown_request")
        #expect(try name(nil, "/dicom-web/studies") == "c", "a rule the path does not reach needs nothing")
        #expect(PathPattern.literalPrefix(of: "^/x/") == "/x/")
        // Nothing describes the request: refused unless `default: authenticated` is written out.
        guard case .refused(.unknownRequest, _) = rules.verdict(for: nil) else { Issue.record("undescribed passed"); return }
        let open = AccessRules(rules: rules.rules, denyUnmatched: false, allowsUndescribed: true)
        guard case .token(_, nil) = open.verdict(for: nil) else { Issue.record("explicit authenticated refused"); return }
    }

    @Test func authURLConstraintsParseStrictly() throws {
        let parsed = try AuthURLConstraints(
            query: "allowed_groups=a,b&allowed_groups=c&scope=x+y,z&allowed_emails=ana%40h.example&allowed_email_domains=*.h.example")
        #expect(parsed.groups == ["a", "b", "c"])
        #expect(parsed.scopes == ["x", "y", "z"])
        #expect(parsed.emails == ["ana@h.example"])
        #expect(parsed.emailDomains == ["*.h.example"])
        #expect(try AuthURLConstraints(query: "").isEmpty)
        #expect(try AuthURLConstraints(query: "&&").isEmpty)
        for bad in ["allowed_groups=%zz", "allowed_groups", "allowed_groups=,,", "x=1", "Allowed_Groups=a", "scope=%E2%28"] {
            #expect(throws: AuthURLConstraints.Refusal.self, "\(bad)") { try AuthURLConstraints(query: Substring(bad)) }
        }
        let requirement = parsed.applied(to: RouteRequirement(scopes: ["read"]), groupsClaim: "realm_access.groups")
        #expect(requirement.scopes == ["read", "x", "y", "z"])
        #expect(requirement.groupsClaim == "realm_access.groups")
    }

    @Test func emailConstraintsFollowOAuth2Proxy() {
        #expect(RouteRequirement.domainAllowed("a@h.example", by: ["h.example"]))
        #expect(!RouteRequirement.domainAllowed("a@x.h.example", by: ["h.example"]))
        #expect(RouteRequirement.domainAllowed("a@x.h.example", by: [".h.example"]))
        #expect(RouteRequirement.domainAllowed("a@h.example", by: ["*.h.example"]))
        #expect(RouteRequirement.domainAllowed("a@X.H.Example", by: ["*.h.example"]))
        #expect(!RouteRequirement.domainAllowed("a@evilh.example", by: ["*.h.example"]))
        #expect(!RouteRequirement.domainAllowed("a@b@h.example", by: ["h.example"]))
        #expect(!RouteRequirement.domainAllowed("h.example", by: ["h.example"]))
        var claims = TokenClaims()
        claims.pathClaims = ["email": ["a@h.example"], "email_verified": ["false"]]
        #expect(RouteRequirement.verifiedEmail(claims) == nil)
        claims.pathClaims = ["email": ["a@h.example"]]
        #expect(RouteRequirement.verifiedEmail(claims) == "a@h.example")
        claims.pathClaims = [:]
        claims.userinfo = ["email": "u@h.example", "email_verified": "true"]
        #expect(RouteRequirement.verifiedEmail(claims) == "u@h.example")
        var requirement = RouteRequirement()
        requirement.emails = ["u@h.example"]
        #expect(requirement.violation(of: claims, issuer: "dev") == nil)
        requirement.emailDomains = ["other.example"]
        #expect(requirement.violation(of: claims, issuer: "dev")?.0 == .email)
    }
}
