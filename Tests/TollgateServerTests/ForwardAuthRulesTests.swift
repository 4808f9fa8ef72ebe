import Foundation
import NIOHTTP1
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// `forward_auth.rules` over real HTTP: every source of request facts, trusted and untrusted
/// forwarded headers, first match wins, and rules checked on cached decisions.
@Suite("forward-auth rules")
struct ForwardAuthRulesTests {
    static func rule(_ path: String, methods: [String] = [], scopes: [String] = [], _ adjust: (inout ForwardAuthRuleConfig) -> Void = { _ in }) -> ForwardAuthRuleConfig {
        var rule = ForwardAuthRuleConfig(methods: methods, path: path, scopes: scopes)
        adjust(&rule)
        return rule
    }

    /// DICOMweb reads need `read`, everything else under it `write`; `/public/` is open; nothing else passes.
    static func dicomRules(_ config: inout TollgateConfig) {
        config.forwardAuth.rules = [
            rule("^/public/") { $0.allowAnonymous = true; $0.name = "public" },
            rule("^/dicom-web/", methods: ["GET", "HEAD"], scopes: ["read"]) { $0.name = "dicom-read" },
            rule("^/dicom-web/", scopes: ["write"]) { $0.name = "dicom-write" },
            rule("^/admin(/|$)", scopes: ["admin"]) { $0.name = "admin" },
        ]
        config.forwardAuth.default = .deny
    }

    func bearer(_ token: String) -> (String, String) { ("Authorization", "Bearer " + token) }

    @Test func everySourceOfTheForwardedRequestSelectsTheRule() async throws {
        let tg = try await RunningTollgate.start(Self.dicomRules)
        defer { Task { await tg.stop() } }
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        let sources: [(String, String, [(String, String)])] = [
            ("Traefik", "/auth", [("X-Forwarded-Method", "POST"), ("X-Forwarded-Uri", "/dicom-web/studies?limit=1"), ("X-Forwarded-Host", "pacs.example.org")]),
            ("nginx", "/auth", [("X-Original-Method", "POST"), ("X-Original-URI", "/dicom-web/studies")]),
        ]
        for (proxy, path, headers) in sources {
            let write = try await tg.get(path, headers: headers + [bearer(reader)])
            #expect(write.status == 403, "\(proxy)")
            #expect(write.header("WWW-Authenticate")?.contains(#"scope="write""#) == true, "\(proxy)")
            let read = try await tg.get(path, headers: headers.map { $0.0.hasSuffix("Method") ? ($0.0, "GET") : $0 } + [bearer(reader)])
            #expect(read.status == 200, "\(proxy)")
            #expect(read.header("X-Auth-Subject") == "reader", "\(proxy)")
        }
        // Envoy path_prefix / Oathkeeper: the path under /auth/ with the original method.
        #expect(try await tg.send("/auth/dicom-web/studies?limit=1", method: .POST, headers: [bearer(reader)], body: nil).status == 403)
        #expect(try await tg.send("/auth/dicom-web/studies?limit=1", method: .GET, headers: [bearer(reader)], body: nil).status == 200)
        // oauth2-proxy's convention: per-route scopes in the auth URL's query string, only ever adding.
        #expect(try await tg.get("/auth?scope=write", headers: [("X-Original-URI", "/dicom-web/x"), bearer(reader)]).status == 403)
        #expect(try await tg.get("/auth?allowed_scopes=read,write", headers: [("X-Original-URI", "/dicom-web/x"), bearer(reader)]).status == 403)
        #expect(try await tg.get("/auth?scope=read", headers: [("X-Original-URI", "/dicom-web/x"), bearer(reader)]).status == 200)
        // X-Required-Scopes stays.
        #expect(try await tg.get("/auth", headers: [("X-Original-URI", "/dicom-web/x"), ("X-Required-Scopes", "write"), bearer(reader)]).status == 403)
    }

    @Test func rawPathsAreNormalisedBeforeMatching() async throws {
        let tg = try await RunningTollgate.start(Self.dicomRules)
        defer { Task { await tg.stop() } }
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        for raw in ["/public/../admin/users", "/public/%2e%2e/admin", "/%61dmin/x", "//admin", "/public/./../admin"] {
            let answer = try await tg.get("/auth", headers: [("X-Original-URI", raw), bearer(reader)])
            #expect(answer.status == 403, "\(raw) must meet the admin rule")
        }
        #expect(try await tg.get("/auth", headers: [("X-Original-URI", "/public/a/../b")]).status == 200)
        for garbage in ["dicom-web/x", "http://evil/", "/a%zz", "/a%2"] {
            let answer = try await tg.get("/auth", headers: [("X-Original-URI", garbage), bearer(reader)])
            #expect(answer.status == 400, "\(garbage)")
            #expect(answer.header("WWW-Authenticate")?.contains("invalid_request") == true)
        }
    }

    @Test func anonymousAndDefaultDenyAndTheFirstMatchWins() async throws {
        let tg = try await RunningTollgate.start(Self.dicomRules)
        defer { Task { await tg.stop() } }
        let writer = try await tg.token(scope: "read write")
        let open = try await tg.get("/auth", headers: [("X-Original-URI", "/public/logo.png")])
        #expect(open.status == 200)
        #expect(open.header("X-Auth-Subject") == nil, "an anonymous pass names nobody")
        let unmatched = try await tg.get("/auth", headers: [("X-Original-URI", "/elsewhere"), bearer(writer)])
        #expect(unmatched.status == 403)
        #expect(unmatched.header("X-Tollgate-Error") == "no_rule")
        #expect(unmatched.header("WWW-Authenticate") == nil)
        // Nothing says which request this is: no rule can match, so the default decides.
        #expect(try await tg.get("/auth", headers: [bearer(writer)]).status == 403)
        // GET matches dicom-read first; DELETE falls through to dicom-write.
        #expect(try await tg.send("/auth", method: .DELETE, headers: [("X-Original-URI", "/dicom-web/studies/1"), bearer(writer)], body: nil).status == 200)
        #expect(try await tg.get("/auth", headers: [("X-Original-URI", "/dicom-web/studies/1")]).status == 401)
    }

    @Test func forwardedHeadersCountOnlyFromTrustedProxies() async throws {
        let tg = try await RunningTollgate.start { config in
            config.forwardAuth.rules = [Self.rule("^/admin", scopes: ["admin"]), Self.rule("^/public") { $0.allowAnonymous = true }]
            config.forwardAuth.trustedProxies = ["10.0.0.0/8", "fd00::/8"]
        }
        defer { Task { await tg.stop() } }
        let writer = try await tg.token(scope: "read write")
        // From loopback, now untrusted, the headers are ignored: neither rule is reached through them.
        #expect(try await tg.get("/auth", headers: [("X-Forwarded-Uri", "/admin"), bearer(writer)]).status == 200)
        #expect(try await tg.get("/auth", headers: [("X-Original-URI", "/public/x")]).status == 401)
        #expect(try await tg.get("/auth", headers: [("X-Forwarded-Uri", "/public/x"), ("X-Original-URI", "/admin")]).status == 401)
        // The request's own path is the caller's, trusted or not.
        #expect(try await tg.get("/auth/admin/x", headers: [bearer(writer)]).status == 403)
        #expect(try await tg.get("/auth/public/x").status == 200)

        let trusted = try await RunningTollgate.start { config in
            config.forwardAuth.rules = [Self.rule("^/admin", scopes: ["admin"]), Self.rule("^/public") { $0.allowAnonymous = true }]
        }
        defer { Task { await trusted.stop() } }
        let trustedWriter = try await trusted.token(scope: "read write")
        #expect(try await trusted.get("/auth", headers: [("X-Forwarded-Uri", "/admin"), bearer(trustedWriter)]).status == 403)
        #expect(try await trusted.get("/auth", headers: [("X-Original-URI", "/public/x")]).status == 200)
        // A client-supplied header that disagrees with the proxy's own is refused, never chosen.
        let mixed = try await trusted.get("/auth", headers: [("X-Forwarded-Uri", "/public/x"), ("X-Original-URI", "/admin")])
        #expect(mixed.status == 400)
        #expect(try await trusted.get("/auth", headers: [("X-Forwarded-Method", "GET"), ("X-Original-Method", "DELETE"), ("X-Original-URI", "/public/x")]).status == 400)
        #expect(try await trusted.get("/auth", headers: [("X-Forwarded-Method", "G E T"), ("X-Forwarded-Uri", "/public/x")]).status == 400)
    }

    @Test func aCachedTokenNeverSkipsARule() async throws {
        let tg = try await RunningTollgate.start(Self.dicomRules)
        defer { Task { await tg.stop() } }
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        let before = tg.introspections
        for _ in 0..<3 {
            #expect(try await tg.get("/auth", headers: [("X-Original-URI", "/dicom-web/a"), bearer(reader)]).status == 200)
            #expect(try await tg.send("/auth", method: .PUT, headers: [("X-Original-URI", "/dicom-web/a"), bearer(reader)], body: nil).status == 403)
            #expect(try await tg.get("/auth", headers: [("X-Original-URI", "/admin/a"), bearer(reader)]).status == 403)
        }
        #expect(tg.introspections - before == 1, "one introspection, every rule still checked")
    }

    @Test func noRulesIsExactlyTheOldBehaviour() async throws {
        let tg = try await RunningTollgate.start()
        defer { Task { await tg.stop() } }
        let reader = try await tg.token(client: "reader", secret: "reader secret&=+", scope: "read")
        for headers in [[("X-Original-URI", "/admin")], [("X-Forwarded-Uri", "/x"), ("X-Original-URI", "/y")], [("X-Forwarded-Method", "G E T")]] {
            #expect(try await tg.get("/auth", headers: headers + [bearer(reader)]).status == 200)
        }
        #expect(try await tg.get("/auth/anything").status == 401)
    }

    @Test func rolesAudiencesIssuersHostsAndRuleHeaders() async throws {
        let forge = TokenForge()
        let tg = try await RunningTollgate.start(waitReady: false) { config in
            JWTTests.jwtIssuer(&config)
            config.forwardAuth.rules = [
                Self.rule("^/reports/") {
                    $0.host = "*.example.org"; $0.roles = ["radiologist"]; $0.rolesClaim = "realm_access.roles"
                    $0.claimsToHeaders = ["sub": "X-User", "realm_access.roles": "X-Roles"]
                },
                Self.rule("^/reports/") { $0.audiences = ["reports"] },
                Self.rule("^/any/") { $0.anyScopes = ["a", "b"] },
                Self.rule("^/dev-only/") { $0.issuers = ["dev"] },
                Self.rule("^/other-issuer/") { $0.issuers = ["http://127.0.0.1:1/realms/other"] },
            ]
            config.forwardAuth.default = .deny
            var other = IssuerConfig(name: "other", issuer: "http://127.0.0.1:1/realms/other", discovery: false, mode: .jwt, introspection: nil)
            other.jwksURI = "http://127.0.0.1:1/jwks"
            config.inbound.issuers.append(other)
        }
        defer { Task { await tg.stop() } }
        tg.app.devIssuer!.publish(jwkJSON: forge.rsaJWK)
        // The other issuer never becomes ready; wait for the dev issuer's keys alone.
        let probe = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now())
        try await waitUntil(seconds: 30) {
            _ = await tg.app.authenticator.issuers[0].jwks!.refresh()
            return try await tg.get("/auth/dev-only/x", headers: [bearer(probe)]).status == 200
        }
        let iss = tg.app.devIssuer!.issuerURL
        let now = tg.clock.now()
        let radiologist = forge.valid(issuer: iss, now: now, claims: ["realm_access": ["roles": ["radiologist", "x"]]])
        let clerk = forge.valid(issuer: iss, now: now, claims: ["realm_access": ["roles": ["clerk"]], "aud": ["tollgate", "reports"]])
        func ask(_ uri: String, _ token: String, host: String = "pacs.example.org") async throws -> RunningTollgate.Answer {
            try await tg.get("/auth", headers: [("X-Forwarded-Uri", uri), ("X-Forwarded-Host", host + ":443"), bearer(token)])
        }
        let granted = try await ask("/reports/1", radiologist)
        #expect(granted.status == 200)
        #expect(granted.header("X-User") == "svc-client")
        #expect(granted.header("X-Roles") == "radiologist x")
        #expect(granted.header("X-Auth-Subject") == nil, "the rule's map replaces the global one")
        // First match wins on method, path and host: a token that fails the matched rule does not fall through.
        #expect(try await ask("/reports/1", clerk).status == 403)
        // Another host skips the role rule; the audience rule then decides.
        #expect(try await ask("/reports/1", clerk, host: "example.com").status == 200)
        let wrongAudience = try await ask("/reports/1", radiologist, host: "example.com")
        #expect(wrongAudience.status == 403)
        #expect(wrongAudience.header("WWW-Authenticate")?.contains("insufficient_scope") == true)
        #expect(try await ask("/any/x", forge.valid(issuer: iss, now: now, claims: ["scope": "b c"])).status == 200)
        let neither = try await ask("/any/x", forge.valid(issuer: iss, now: now, claims: ["scope": "c"]))
        #expect(neither.status == 403)
        #expect(neither.header("WWW-Authenticate")?.contains(#"scope="a b""#) == true)
        #expect(try await ask("/dev-only/x", radiologist).status == 200)
        #expect(try await ask("/other-issuer/x", radiologist).status == 403)
        // Rules never rescue a bad token.
        #expect(try await ask("/reports/1", forge.valid(issuer: iss, now: now - 7200)).status == 401)
    }
}
