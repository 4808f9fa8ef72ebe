import Crypto
import CryptoExtras
import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// Local JWT verification against the dev issuer's JWKS, answered over `GET /auth` in RFC 6750 terms.
@Suite("JWT validation and forward-auth")
struct JWTTests {
    /// The embedded dev issuer verified locally: at+jwt required, audience `tollgate`.
    static func jwtIssuer(_ config: inout TollgateConfig) {
        var issuer = IssuerConfig(name: "dev", issuer: nil, embedded: true, mode: .jwt, introspection: nil)
        issuer.requireTyp = "at+jwt"
        issuer.audiences = ["tollgate"]
        config.inbound.issuers = [issuer]
    }

    /// Starts Tollgate in JWT mode with the forge's keys published in the dev issuer's JWKS.
    static func start(_ forge: TokenForge, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        let tg = try await RunningTollgate.start {
            jwtIssuer(&$0); adjust(&$0)
        }
        tg.app.devIssuer!.publish(jwkJSON: forge.rsaJWK)
        tg.app.devIssuer!.publish(jwkJSON: forge.ecJWK)
        _ = await tg.app.authenticator.issuers[0].jwks!.refresh()
        return tg
    }

    func auth(_ tg: RunningTollgate, _ authorization: String?, headers: [(String, String)] = []) async throws -> RunningTollgate.Answer {
        try await tg.get("/auth", headers: (authorization.map { [("Authorization", $0)] } ?? []) + headers)
    }

    struct Hostile {
        let name: String
        let authorization: String?
        let status: UInt
        /// The RFC 6750 error code expected in WWW-Authenticate; nil for a bare challenge or none.
        let error: String?
    }

    @Test func hostileTokensGetTheRightRFC6750Answer() async throws {
        let forge = TokenForge()
        let tg = try await Self.start(forge)
        defer { Task { await tg.stop() } }
        let iss = tg.app.devIssuer!.issuerURL
        let now = tg.clock.now()
        let foreign = try await RunningTollgate.start()
        let foreignToken = try await foreign.token()
        await foreign.stop()
        let attacker = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let good = forge.valid(issuer: iss, now: now)
        let other = forge.valid(issuer: iss, now: now, claims: ["sub": "someone-else"])
        let goodParts = good.split(separator: ".")
        let otherParts = other.split(separator: ".")
        let claims: [String: Any] = ["iss": iss, "sub": "x", "aud": "tollgate", "exp": Int(now) + 600, "iat": Int(now)]
        func bearer(_ token: String) -> String { "Bearer " + token }
        func forged(_ header: [String: Any], _ signer: TokenForge.Signer = .rsa, claims body: [String: Any] = claims) -> String {
            bearer(forge.token(header: header, claims: body, signer: signer))
        }
        func b64(_ data: Data) -> String { TokenForge.b64(data) }
        let cases: [Hostile] = [
            .init(name: "control: valid RS256 at+jwt", authorization: bearer(good), status: 200, error: nil),
            .init(
                name: "control: valid ES256",
                authorization: bearer(forge.valid(issuer: iss, now: now, header: ["alg": "ES256", "kid": forge.ecKid], signer: .ec)), status: 200, error: nil),
            .init(name: "control: dev issuer's own token", authorization: bearer(try await tg.token()), status: 200, error: nil),
            .init(name: "no Authorization header", authorization: nil, status: 401, error: nil),
            .init(name: "Basic scheme", authorization: "Basic dXNlcjpwYXNz", status: 401, error: nil),
            .init(name: "Bearer without token", authorization: "Bearer ", status: 400, error: "invalid_request"),
            .init(name: "token with spaces", authorization: "Bearer abc def", status: 400, error: "invalid_request"),
            .init(
                name: "alg none lowercase, empty signature", authorization: forged(["alg": "none", "typ": "at+jwt"], .none), status: 401, error: "invalid_token"
            ),
            .init(
                name: "alg none with a signature", authorization: forged(["alg": "none", "typ": "at+jwt"], .raw("c2ln")), status: 401, error: "invalid_token"),
            .init(name: "alg None", authorization: forged(["alg": "None", "typ": "at+jwt"], .raw("c2ln")), status: 401, error: "invalid_token"),
            .init(name: "alg NONE", authorization: forged(["alg": "NONE", "typ": "at+jwt"], .raw("c2ln")), status: 401, error: "invalid_token"),
            .init(name: "alg nOnE", authorization: forged(["alg": "nOnE", "typ": "at+jwt"], .raw("c2ln")), status: 401, error: "invalid_token"),
            .init(
                name: "HS256 keyed with the RSA public key PEM",
                authorization: forged(["alg": "HS256", "typ": "at+jwt", "kid": forge.rsaKid], .hmac(Data(forge.rsaPublicPEM.utf8))), status: 401,
                error: "invalid_token"),
            .init(
                name: "HS256 without kid", authorization: forged(["alg": "HS256", "typ": "at+jwt"], .hmac(Data(forge.rsaPublicPEM.utf8))), status: 401,
                error: "invalid_token"),
            .init(
                name: "RS256 header naming the EC key", authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": forge.ecKid]), status: 401,
                error: "invalid_token"),
            .init(
                name: "ES256 header naming the RSA key", authorization: forged(["alg": "ES256", "typ": "at+jwt", "kid": forge.rsaKid], .ec), status: 401,
                error: "invalid_token"),
            .init(
                name: "kid not in the JWKS", authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": "ghost"], .otherRSA(attacker)), status: 401,
                error: "invalid_token"),
            .init(
                name: "kid with path characters", authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": "../../../etc/passwd"]), status: 401,
                error: "invalid_token"),
            .init(
                name: "kid with SQL", authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": "' OR '1'='1' --"]), status: 401, error: "invalid_token"),
            .init(
                name: "jku pointing elsewhere",
                authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": "evil", "jku": "http://127.0.0.1:9/jwks"], .otherRSA(attacker)), status: 401,
                error: "invalid_token"),
            .init(
                name: "x5u pointing elsewhere",
                authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": "evil", "x5u": "http://127.0.0.1:9/cert.pem"], .otherRSA(attacker)), status: 401,
                error: "invalid_token"),
            .init(
                name: "embedded jwk of the attacker",
                authorization: forged(["alg": "RS256", "typ": "at+jwt", "jwk": ["kty": "RSA", "n": "AQAB", "e": "AQAB"]], .otherRSA(attacker)), status: 401,
                error: "invalid_token"),
            .init(
                name: "unknown crit",
                authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": forge.rsaKid, "crit": ["urn:example:x"], "urn:example:x": 1]), status: 401,
                error: "invalid_token"),
            .init(
                name: "crit b64 false", authorization: forged(["alg": "RS256", "typ": "at+jwt", "kid": forge.rsaKid, "crit": ["b64"], "b64": false]),
                status: 401, error: "invalid_token"),
            .init(name: "missing exp", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["exp": nil])), status: 401, error: "invalid_token"),
            .init(
                name: "expired an hour ago", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["exp": Int(now) - 3600])), status: 401,
                error: "invalid_token"),
            .init(
                name: "expired just past leeway", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["exp": Int(now) - 31])), status: 401,
                error: "invalid_token"),
            .init(
                name: "control: expired within leeway", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["exp": Int(now) - 10])), status: 200,
                error: nil),
            .init(
                name: "exp as a string", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["exp": "never"])), status: 401,
                error: "invalid_token"),
            .init(
                name: "control: far-future exp (cache life still capped)",
                authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["exp": Int(now) + 10 * 365 * 86400])), status: 200, error: nil),
            .init(
                name: "nbf in the future", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["nbf": Int(now) + 3600])), status: 401,
                error: "invalid_token"),
            .init(
                name: "iat in the future", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["iat": Int(now) + 3600])), status: 401,
                error: "invalid_token"),
            .init(name: "wrong iss", authorization: bearer(forge.valid(issuer: "https://evil.example", now: now)), status: 401, error: "invalid_token"),
            .init(name: "iss with trailing slash", authorization: bearer(forge.valid(issuer: iss + "/", now: now)), status: 401, error: "invalid_token"),
            .init(name: "aud missing", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["aud": nil])), status: 401, error: "invalid_token"),
            .init(
                name: "aud wrong", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["aud": "someone-else"])), status: 401,
                error: "invalid_token"),
            .init(
                name: "control: aud array with a match", authorization: bearer(forge.valid(issuer: iss, now: now, claims: ["aud": ["x", "tollgate"]])),
                status: 200, error: nil),
            .init(
                name: "typ JWT when at+jwt is required", authorization: bearer(forge.valid(issuer: iss, now: now, header: ["typ": "JWT"])), status: 401,
                error: "invalid_token"),
            .init(name: "typ missing", authorization: bearer(forge.valid(issuer: iss, now: now, header: ["typ": nil])), status: 401, error: "invalid_token"),
            .init(
                name: "control: typ application/at+jwt", authorization: bearer(forge.valid(issuer: iss, now: now, header: ["typ": "application/at+jwt"])),
                status: 200, error: nil),
            .init(name: "two segments", authorization: bearer(String(goodParts[0] + "." + goodParts[1])), status: 401, error: "invalid_token"),
            .init(name: "four segments", authorization: bearer(good + ".c2ln"), status: 401, error: "invalid_token"),
            .init(
                name: "base64 (not base64url) characters", authorization: bearer("eyJ+bGci/iJ." + goodParts[1] + "." + goodParts[2]), status: 401,
                error: "invalid_token"),
            .init(
                name: "segment with base64 padding", authorization: bearer(String(goodParts[0]) + "==." + goodParts[1] + "." + goodParts[2]), status: 400,
                error: "invalid_request"),
            .init(
                name: "header not JSON", authorization: bearer(forge.segments(header: b64(Data("not json".utf8)), payload: String(goodParts[1]), signer: .rsa)),
                status: 401, error: "invalid_token"),
            .init(
                name: "header a JSON array", authorization: bearer(forge.segments(header: b64(Data("[1]".utf8)), payload: String(goodParts[1]), signer: .rsa)),
                status: 401, error: "invalid_token"),
            .init(
                name: "payload not JSON", authorization: bearer(forge.segments(header: String(goodParts[0]), payload: b64(Data("{{".utf8)), signer: .rsa)),
                status: 401, error: "invalid_token"),
            .init(
                name: "signature of another valid token spliced on", authorization: bearer(goodParts[0] + "." + goodParts[1] + "." + otherParts[2]),
                status: 401, error: "invalid_token"),
            .init(name: "signature truncated", authorization: bearer(String(good.dropLast(10))), status: 401, error: "invalid_token"),
            .init(
                name: "unsupported algorithm RS1", authorization: forged(["alg": "RS1", "typ": "at+jwt", "kid": forge.rsaKid]), status: 401,
                error: "invalid_token"),
            .init(
                name: "PS256 not in the allowlist", authorization: forged(["alg": "PS256", "typ": "at+jwt", "kid": forge.rsaKid]), status: 401,
                error: "invalid_token"),
            .init(name: "token of a second real issuer not configured", authorization: bearer(foreignToken), status: 401, error: "invalid_token"),
            .init(
                name: "our iss signed by a foreign key without kid", authorization: forged(["alg": "RS256", "typ": "at+jwt"], .otherRSA(attacker)), status: 401,
                error: "invalid_token"),
            .init(name: "garbage with dots", authorization: bearer("abc.def.ghi"), status: 401, error: "invalid_token"),
            .init(name: "opaque token in JWT-only mode", authorization: bearer("2YotnFZFEjr1zCsicMWpAA"), status: 401, error: "invalid_token"),
            .init(name: "script injection characters", authorization: "Bearer <script>alert(1)</script>", status: 400, error: "invalid_request"),
            .init(name: "token over max_token_bytes", authorization: bearer(String(repeating: "a", count: 9000)), status: 401, error: "invalid_token"),
        ]
        #expect(cases.count >= 40)
        for hostile in cases {
            let answer = try await auth(tg, hostile.authorization)
            #expect(answer.status == hostile.status, "\(hostile.name): \(answer.status) \(answer.header("WWW-Authenticate") ?? "")")
            let challenge = answer.header("WWW-Authenticate")
            if answer.status == 401 || answer.status == 400 || answer.status == 403 {
                #expect(challenge?.hasPrefix(#"Bearer realm="tollgate""#) == true, "\(hostile.name)")
            }
            if let error = hostile.error {
                #expect(challenge?.contains(#"error="\#(error)""#) == true, "\(hostile.name): \(challenge ?? "no challenge")")
            } else if answer.status == 401 {
                #expect(challenge == #"Bearer realm="tollgate""#, "\(hostile.name)")
            }
            if let token = hostile.authorization?.split(separator: " ").last, token.count > 8 {
                #expect(!(challenge ?? "").contains(token), "\(hostile.name) echoed the token")
            }
        }
        #expect(try await tg.get("/health").status == 200)
        for hostile in cases { if let token = hostile.authorization?.split(separator: " ").last, token.count > 20 { #expect(!tg.logs.text.contains(token)) } }
    }

    @Test func megabyteHeaderIsRefusedWithoutA500() async throws {
        try await withRunningTollgate(configured: { Self.jwtIssuer(&$0) }) { tg in
            let answer = try? await auth(tg, "Bearer " + String(repeating: "A", count: 1 << 20))
            if let answer { #expect(answer.status != 500 && answer.status >= 400) }
            let health = try await tg.get("/health").status
            #expect(health == 200)
        }
    }

    @Test func identityHeadersAndPerRouteScopes() async throws {
        try await withRunningTollgate(configured: { Self.jwtIssuer(&$0) }) { tg in
            let token = try await tg.token(scope: "read")
            let ok = try await auth(tg, "Bearer " + token)
            #expect(ok.status == 200)
            #expect(ok.header("X-Auth-Subject") == "tollgate-dev")
            #expect(ok.header("X-Auth-Client-Id") == "tollgate-dev")
            #expect(ok.header("X-Auth-Scopes") == "read")
            #expect(ok.header("X-Auth-Issuer") == "dev")
            let post = try await tg.send("/auth/dicom-web/studies", method: .POST, headers: [("Authorization", "Bearer " + token)], body: nil)
            #expect(post.status == 200)
            let forbidden = try await auth(tg, "Bearer " + token, headers: [("X-Required-Scopes", "read write")])
            #expect(forbidden.status == 403)
            #expect(forbidden.header("WWW-Authenticate")?.contains(#"error="insufficient_scope""#) == true)
            #expect(forbidden.header("WWW-Authenticate")?.contains(#"scope="write""#) == true)
            // Every 403 carries an OAuthError body (docs/openapi.yaml's Forbidden), this one too.
            #expect(forbidden.header("Content-Type") == "application/json")
            #expect(forbidden.body.contains(#""error":"insufficient_scope""#))
            let metrics = try await tg.get("/metrics").body
            #expect(metrics.contains(#"tollgate_jwks_fetches_total{issuer="dev",result="ok"}"#))
            #expect(metrics.contains(#"tollgate_jwks_keys{issuer="dev"} 1"#))
        }
    }

    @Test func mockForgeUsesTheSameJWTValidator() async throws {
        try await withRunningTollgate(configured: { Self.jwtIssuer(&$0) }) { tg in
            let token = try await tg.token()
            let answer = try await tg.authenticate(token)
            #expect(answer.authenticated == true)
            #expect(tg.introspections == 0)  // verified locally
        }
    }

    @Test func rotatedKeyIsAcceptedAfterOneRefetch() async throws {
        try await withRunningTollgate(configured: { Self.jwtIssuer(&$0) }) { tg in
            let fetchesBefore = tg.app.devIssuer!.requestCount(.jwks)
            try await tg.app.devIssuer!.rotateKey()
            let token = try await tg.token()
            #expect(try await self.auth(tg, "Bearer " + token).status == 200)
            #expect(tg.app.devIssuer!.requestCount(.jwks) == fetchesBefore + 1)
        }
    }

    @Test func unknownKidStormCausesOneFetch() async throws {
        try await withRunningTollgate(configured: { Self.jwtIssuer(&$0) }) { tg in
            let forge = TokenForge()
            let iss = tg.app.devIssuer!.issuerURL
            let tokens = (0..<1000).map { _ in forge.valid(issuer: iss, now: tg.clock.now()) }
            let before = tg.app.devIssuer!.requestCount(.jwks)
            // 64 in flight at a time: a storm for the key set, without queueing a thousand requests
            // behind the test client's connection pool (whose wait times out on a loaded machine).
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                var statuses: [UInt] = []
                for (index, token) in tokens.enumerated() {
                    if index >= 64, let status = try await group.next() { statuses.append(status) }
                    group.addTask { try await auth(tg, "Bearer " + token).status }
                }
                return try await group.reduce(into: statuses) { $0.append($1) }
            }
            #expect(statuses.count == tokens.count)
            #expect(statuses.allSatisfy { $0 == 401 })
            #expect(tg.app.devIssuer!.requestCount(.jwks) == before + 1)
        }
    }

    @Test func autoModeVerifiesJWTsLocallyAndIntrospectsOpaqueTokens() async throws {
        try await withRunningTollgate(configured: { $0.inbound.issuers[0].mode = .auto }) { tg in
            let before = tg.introspections
            let jwt = try await self.auth(tg, "Bearer " + (try await tg.token())).status
            #expect(jwt == 200)
            #expect(tg.introspections == before)
            let opaque = try await self.auth(tg, "Bearer opaque-token-value").status
            #expect(opaque == 401)
            #expect(tg.introspections == before + 1)
        }
    }

    @Test func jwtIssuerIsNotReadyUntilKeysLoad() async throws {
        let closed = try await freePort()
        let tg = try await RunningTollgate.start(waitReady: false) {
            var issuer = IssuerConfig(name: "nokeys", issuer: "http://127.0.0.1:\(closed)/realm", discovery: false, mode: .jwt, introspection: nil)
            issuer.jwksURI = "http://127.0.0.1:\(closed)/realm/jwks"
            $0.inbound.issuers = [issuer]
        }
        defer { Task { await tg.stop() } }
        try await tg.waitForNotReadyReason(containing: "issuer nokeys")
        let forge = TokenForge()
        let answer = try await auth(tg, "Bearer " + forge.valid(issuer: "http://127.0.0.1:\(closed)/realm", now: tg.clock.now()))
        #expect(answer.status == 503)
        #expect(answer.header("WWW-Authenticate") == nil)
    }
}

@Suite("JWKS caching")
struct JWKSTests {
    static func issuer(_ idp: BrokenIdP, stale: Int) -> IssuerConfig {
        var issuer = IssuerConfig(name: "keys", issuer: idp.base + "/realm", discovery: false, mode: .jwt, introspection: nil)
        issuer.jwksURI = idp.base + "/jwks"
        issuer.jwks.minRefreshSeconds = 60
        issuer.jwks.maxCacheSeconds = 600
        issuer.jwks.maxStaleSeconds = stale
        return issuer
    }

    @Test func lastGoodKeysServeUntilMaxStaleThenFailClosedAs503() async throws {
        let idp = try await BrokenIdP.start()
        defer { Task { await idp.stop() } }
        let forge = TokenForge()
        idp.jwks.set(status: 200, body: #"{"keys":[\#(forge.rsaJWK)]}"#, cacheControl: "max-age=120")
        try await withRunningTollgate(configured: { $0.inbound.issuers = [Self.issuer(idp, stale: 300)] }) { tg in
            let keys = tg.app.authenticator.issuers[0].jwks!
            #expect(keys.secondsUntilRefresh > 119 && keys.secondsUntilRefresh <= 120)

            idp.jwks.set(status: 503)
            tg.clock.advance(by: 121)
            #expect(await keys.refresh() != .loaded(1))
            let stillGood = forge.valid(issuer: idp.base + "/realm", now: tg.clock.now())
            #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + stillGood)]).status == 200)

            tg.clock.advance(by: 300)  // past max-age + max_stale: no usable keys left
            let later = forge.valid(issuer: idp.base + "/realm", now: tg.clock.now())
            let answer = try await tg.get("/auth", headers: [("Authorization", "Bearer " + later)])
            #expect(answer.status == 503)
            // The IdP's fault, not this replica's: still ready (server.readiness: startup), degraded on /health.
            #expect(try await tg.get("/ready").status == 200)
            #expect((try await tg.get("/health").json["degraded"] as? [String])?.contains { $0.hasPrefix("issuer ") } == true)
        }
    }

    /// Audit defect 2: `Cache-Control: max-age=NaN` (or inf, or negative) made the refresher fetch
    /// in a loop (91 fetches in 4 s). Such values are absent, and fetches keep a minimum spacing.
    @Test func nonNumericMaxAgeIsAbsentAndNeverLoops() async throws {
        let idp = try await BrokenIdP.start()
        defer { Task { await idp.stop() } }
        let forge = TokenForge()
        idp.jwks.set(status: 200, body: #"{"keys":[\#(forge.rsaJWK)]}"#, cacheControl: "max-age=NaN")
        try await withRunningTollgate(configured: { $0.inbound.issuers = [Self.issuer(idp, stale: 0)] }) { tg in
            let fetcher = tg.app.authenticator.issuers[0].jwksFetcher!
            for header in ["max-age=NaN", "max-age=inf", "max-age=-5", "max-age=1e3", "max-age=\"nan\"", "max-age="] {
                #expect(fetcher.lifetime(cacheControl: header, expires: nil) == 60, "\(header)")
            }
            #expect(fetcher.lifetime(cacheControl: "max-age=99999999999999999999999", expires: nil) == 600)
            try await Task.sleep(for: .seconds(2))
            let fetches = try await tg.metric(#"tollgate_jwks_fetches_total{issuer="keys",result="ok"}"#) ?? 0
            #expect(fetches <= 3, "\(fetches) JWKS fetches in 2 s")
            let token = forge.valid(issuer: idp.base + "/realm", now: tg.clock.now())
            #expect(try await tg.get("/auth", headers: [("Authorization", "Bearer " + token)]).status == 200)
        }
    }

    @Test func cacheLifetimeHonoursHeadersWithinBounds() async throws {
        let idp = try await BrokenIdP.start()
        defer { Task { await idp.stop() } }
        let forge = TokenForge()
        idp.jwks.set(status: 200, body: #"{"keys":[\#(forge.rsaJWK),{"kty":"oct","k":"c2VjcmV0"}]}"#, cacheControl: "public, max-age=604800")
        try await withRunningTollgate(configured: { $0.inbound.issuers = [Self.issuer(idp, stale: 0)] }) { tg in
            let keys = tg.app.authenticator.issuers[0].jwks!
            #expect(keys.currentKeys()?.count == 1)  // the symmetric key is never used
            let fetcher = tg.app.authenticator.issuers[0].jwksFetcher!
            #expect(fetcher.lifetime(cacheControl: "public, max-age=604800", expires: nil) == 600)
            #expect(fetcher.lifetime(cacheControl: "max-age=5", expires: nil) == 60)
            #expect(fetcher.lifetime(cacheControl: "no-store", expires: nil) == 60)
            #expect(fetcher.lifetime(cacheControl: nil, expires: nil) == 60)
            let inTwoHundred = Date(timeIntervalSince1970: tg.clock.now() + 200)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let lifetime = fetcher.lifetime(cacheControl: nil, expires: formatter.string(from: inTwoHundred))
            #expect(lifetime > 198 && lifetime <= 200)
        }
    }
}
