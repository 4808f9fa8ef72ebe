import Crypto
import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
import TollgateConfiguration
import TollgateKit

/// Sender-constrained tokens (RFC 9449, RFC 8705) over real HTTP: a token with `cnf` never passes
/// as a bearer token, and a DPoP proof passes `/auth` only when every rule of RFC 9449 §4.3 holds
/// for the guarded request a trusted proxy describes.
@Suite("DPoP and bound tokens")
struct DPoPTests {
    /// A client's DPoP key and the proofs it signs (ES256 with swift-crypto; the hostile variants by hand).
    struct Client {
        let key = P256.Signing.PrivateKey()

        var x: String { TokenForge.b64(key.publicKey.rawRepresentation.prefix(32)) }
        var y: String { TokenForge.b64(key.publicKey.rawRepresentation.suffix(32)) }
        var jwk: [String: Any] { ["kty": "EC", "crv": "P-256", "x": x, "y": y] }
        /// RFC 7638, written out independently of Tollgate's code: the required members in order.
        var thumbprint: String {
            TokenForge.b64(Data(SHA256.hash(data: Data(#"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#.utf8))))
        }

        static func ath(_ token: String) -> String { TokenForge.b64(Data(SHA256.hash(data: Data(token.utf8)))) }

        func proof(
            token: String, method: String = "GET", uri: String = DPoPTests.target, iat: Double, jti: String = UUID().uuidString,
            header changes: [String: Any?] = [:], claims claimChanges: [String: Any?] = [:], sign: Bool = true
        ) -> String {
            var header: [String: Any] = ["typ": "dpop+jwt", "alg": "ES256", "jwk": jwk]
            for (name, value) in changes { header[name] = value }
            var claims: [String: Any] = ["jti": jti, "htm": method, "htu": uri, "iat": Int(iat), "ath": Self.ath(token)]
            for (name, value) in claimChanges { claims[name] = value }
            let input = TokenForge.b64(TokenForge.json(header)) + "." + TokenForge.b64(TokenForge.json(claims))
            let signature = sign ? TokenForge.b64(try! key.signature(for: Data(input.utf8)).rawRepresentation) : ""
            return input + "." + signature
        }
    }

    static let target = "https://pacs.example/dicom-web/studies"
    /// What a trusted proxy (loopback here) says about the guarded request.
    static let forwarded = [
        ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "pacs.example"),
        ("X-Forwarded-Uri", "/dicom-web/studies?PatientID=1"),
    ]

    static func dpop(_ token: String, _ proofs: [String]) -> [(String, String)] {
        [("Authorization", "DPoP " + token)] + proofs.map { ("DPoP", $0) } + forwarded
    }

    func auth(_ tg: RunningTollgate, _ headers: [(String, String)]) async throws -> (UInt, String) {
        let answer = try await tg.get("/auth", headers: headers)
        return (answer.status, answer.header("WWW-Authenticate") ?? "")
    }

    @Test func everyProofRuleOfRFC9449IsChecked() async throws {
        let forge = TokenForge()
        let tg = try await JWTTests.start(forge) { $0.inbound.issuers[0].algorithms = [.rs256, .es256] }
        defer { Task { await tg.stop() } }
        let iss = tg.app.devIssuer!.issuerURL
        let now = tg.clock.now()
        let client = Client()
        let bound = forge.valid(issuer: iss, now: now, claims: ["cnf": ["jkt": client.thumbprint]])
        let unbound = forge.valid(issuer: iss, now: now)

        let valid = client.proof(token: bound, iat: now)
        #expect(try await auth(tg, Self.dpop(bound, [valid])).0 == 200, "a valid proof")
        let replayed = try await auth(tg, Self.dpop(bound, [valid]))
        #expect(replayed.0 == 401 && replayed.1.hasPrefix(#"DPoP error="invalid_dpop_proof""#), "the same proof again: \(replayed)")
        #expect(replayed.1.contains(#"algs="RS256 ES256""#), "the issuer's algorithms: \(replayed.1)")
        for variant in [Self.target + "?query=1#fragment", "https://PACS.example:443/dicom-web/studies"] {
            #expect(try await auth(tg, Self.dpop(bound, [client.proof(token: bound, uri: variant, iat: now)])).0 == 200, "htu \(variant)")
        }

        let otherClient = Client()
        let hs256 = client.proof(token: bound, iat: now, header: ["alg": "HS256"])
        var withPrivate = client.jwk
        withPrivate["d"] = TokenForge.b64(client.key.rawRepresentation)
        let refusals: [(String, [String], String)] = [
            ("no proof", [], "invalid_dpop_proof"),
            ("two proofs", [client.proof(token: bound, iat: now), client.proof(token: bound, iat: now)], "invalid_dpop_proof"),
            ("wrong htm", [client.proof(token: bound, method: "POST", iat: now)], "invalid_dpop_proof"),
            ("wrong htu", [client.proof(token: bound, uri: "https://pacs.example/dicom-web/series", iat: now)], "invalid_dpop_proof"),
            ("another host", [client.proof(token: bound, uri: "https://elsewhere.example/dicom-web/studies", iat: now)], "invalid_dpop_proof"),
            ("http instead of https", [client.proof(token: bound, uri: "http://pacs.example/dicom-web/studies", iat: now)], "invalid_dpop_proof"),
            ("stale iat", [client.proof(token: bound, iat: now - 120)], "invalid_dpop_proof"),
            ("future iat", [client.proof(token: bound, iat: now + 60)], "invalid_dpop_proof"),
            ("ath of another token", [client.proof(token: bound, iat: now, claims: ["ath": Client.ath(unbound)])], "invalid_dpop_proof"),
            ("no ath", [client.proof(token: bound, iat: now, claims: ["ath": nil])], "invalid_dpop_proof"),
            ("no jti", [client.proof(token: bound, iat: now, claims: ["jti": nil])], "invalid_dpop_proof"),
            ("alg none", [client.proof(token: bound, iat: now, header: ["alg": "none"], sign: false)], "invalid_dpop_proof"),
            ("HS256", [hs256], "invalid_dpop_proof"),
            ("ES384 with a P-256 key", [client.proof(token: bound, iat: now, header: ["alg": "ES384"])], "invalid_dpop_proof"),
            ("a private key in jwk", [client.proof(token: bound, iat: now, header: ["jwk": withPrivate])], "invalid_dpop_proof"),
            ("typ jwt", [client.proof(token: bound, iat: now, header: ["typ": "JWT"])], "invalid_dpop_proof"),
            ("no jwk", [client.proof(token: bound, iat: now, header: ["jwk": nil])], "invalid_dpop_proof"),
            ("jwk of another key than the signature", [client.proof(token: bound, iat: now, header: ["jwk": otherClient.jwk])], "invalid_dpop_proof"),
            ("a valid proof by another key (thumbprint mismatch)", [otherClient.proof(token: bound, iat: now)], "invalid_token"),
            ("garbage", ["not.a.proof"], "invalid_dpop_proof"),
        ]
        for (name, proofs, error) in refusals {
            let (status, challenge) = try await auth(tg, Self.dpop(bound, proofs))
            #expect(status == 401 && challenge.hasPrefix(#"DPoP error="\#(error)""#), "\(name): \(status) \(challenge)")
        }
        // An unbound token with the DPoP scheme: its binding cannot be what the proof claims.
        let unboundDPoP = try await auth(tg, Self.dpop(unbound, [client.proof(token: unbound, iat: now)]))
        #expect(unboundDPoP.0 == 401 && unboundDPoP.1.hasPrefix(#"DPoP error="invalid_token""#), "\(unboundDPoP)")
        #expect(tg.logs.text.contains("htu is not the request's URI"), "the failed check is in the debug log")
    }

    @Test func aBoundTokenNeverPassesAsABearerTokenNotEvenFromTheCache() async throws {
        let forge = TokenForge()
        let tg = try await JWTTests.start(forge)
        defer { Task { await tg.stop() } }
        let iss = tg.app.devIssuer!.issuerURL
        let now = tg.clock.now()
        let client = Client()
        let bound = forge.valid(issuer: iss, now: now, claims: ["cnf": ["jkt": client.thumbprint]])
        #expect(try await auth(tg, Self.dpop(bound, [client.proof(token: bound, iat: now)])).0 == 200, "cached as active")
        for attempt in 1...2 {
            let (status, challenge) = try await auth(tg, [("Authorization", "Bearer " + bound)] + Self.forwarded)
            #expect(status == 401 && challenge.hasPrefix(#"DPoP error="invalid_token""#), "attempt \(attempt): \(status) \(challenge)")
        }
        // Certificate-bound, and a confirmation method Tollgate does not check: refused as bearer tokens.
        let certificateBound = forge.valid(issuer: iss, now: now, claims: ["cnf": ["x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"]])
        let unknown = forge.valid(issuer: iss, now: now, claims: ["cnf": ["kid": "some-key"]])
        let notAnObject = forge.valid(issuer: iss, now: now, claims: ["cnf": "jkt"])
        for (name, token) in [("x5t#S256 without a certificate", certificateBound), ("cnf.kid", unknown), ("cnf not an object", notAnObject)] {
            let (status, challenge) = try await auth(tg, [("Authorization", "Bearer " + token)])
            #expect(status == 401 && challenge.hasPrefix(#"Bearer realm="tollgate", error="invalid_token""#), "\(name): \(status) \(challenge)")
        }
        // The Orthanc web-service routes carry one token and no proof: a bound token is refused there too.
        let unbound = forge.valid(issuer: iss, now: now)
        #expect(try await auth(tg, [("Authorization", "Bearer " + unbound)]).0 == 200, "control: an unbound bearer token")
        #expect(await tg.app.authenticator.authenticate(token: bound).verdict == .denied(.boundTokenAsBearer))
    }

    @Test func withoutATrustedDescriptionOfTheRequestNoProofMatches() async throws {
        let forge = TokenForge()
        let tg = try await JWTTests.start(forge) { $0.forwardAuth.trustedProxies = ["10.0.0.0/8"] }
        defer { Task { await tg.stop() } }
        let now = tg.clock.now()
        let client = Client()
        let bound = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: now, claims: ["cnf": ["jkt": client.thumbprint]])
        let (status, challenge) = try await auth(tg, Self.dpop(bound, [client.proof(token: bound, iat: now)]))
        #expect(status == 401 && challenge.hasPrefix(#"DPoP error="invalid_dpop_proof""#), "\(status) \(challenge)")
        #expect(tg.logs.text.contains("the request's method is unknown"))
    }

    /// RFC 8705 behind a TLS-terminating proxy: the certificate a trusted proxy forwards, in
    /// each format a proxy uses, and never one from an untrusted peer or an ambiguous header.
    @Test func aForwardedClientCertificateBindsOnlyFromATrustedProxy() async throws {
        let ca = try ServerTLSTests.Authority("Proxy Test CA")
        let client = try ca.issue(commonName: "modality", server: false)
        let other = try ca.issue(commonName: "another", server: false)
        func der(_ issued: ServerTLSTests.Issued) -> Data {
            Data(base64Encoded: issued.certificatePEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())!
        }
        let thumbprint = TokenForge.b64(Data(SHA256.hash(data: der(client))))
        let hex = SHA256.hash(data: der(client)).map { String(format: "%02x", $0) }.joined()
        let escaped = client.certificatePEM.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let forge = TokenForge()
        for (format, header, value, expected) in [
            (ForwardedCertificateConfig.Format.pem, "X-SSL-Client-Cert", escaped, UInt(200)),
            (.pem, "X-SSL-Client-Cert", other.certificatePEM.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, 401),
            (.pem, "X-SSL-Client-Cert", "not a certificate", 401),
            (.derBase64, "X-Forwarded-Tls-Client-Cert", der(client).base64EncodedString(), 200),
            (.xfcc, "X-Forwarded-Client-Cert", #"By=spiffe://proxy;Hash=\#(hex);Subject="CN=modality";URI="#, 200),
            (.xfcc, "X-Forwarded-Client-Cert", #"Hash=\#(hex),Hash=\#(hex)"#, 401),
        ] {
            let tg = try await JWTTests.start(forge) { $0.forwardAuth.clientCertificate = ForwardedCertificateConfig(header: header, format: format) }
            let bound = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now(), claims: ["cnf": ["x5t#S256": thumbprint]])
            let (status, _) = try await auth(tg, [("Authorization", "Bearer " + bound), (header, value)])
            #expect(status == expected, "\(format) \(value.prefix(40)): \(status)")
            let (without, _) = try await auth(tg, [("Authorization", "Bearer " + bound)])
            #expect(without == 401, "\(format): no certificate forwarded")
            await tg.stop()
        }
        let untrusted = try await JWTTests.start(forge) { config in
            config.forwardAuth.clientCertificate = ForwardedCertificateConfig(header: "X-SSL-Client-Cert", format: .pem)
            config.forwardAuth.trustedProxies = ["10.0.0.0/8"]
        }
        defer { Task { await untrusted.stop() } }
        let bound = forge.valid(issuer: untrusted.app.devIssuer!.issuerURL, now: untrusted.clock.now(), claims: ["cnf": ["x5t#S256": thumbprint]])
        #expect(try await auth(untrusted, [("Authorization", "Bearer " + bound), ("X-SSL-Client-Cert", escaped)]).0 == 401, "untrusted peer")
    }

    @Test func mockForgePassesTheProofInContextHeaders() async throws {
        let forge = TokenForge()
        let tg = try await JWTTests.start(forge)
        defer { Task { await tg.stop() } }
        let now = tg.clock.now()
        let client = Client()
        let bound = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: now, claims: ["cnf": ["jkt": client.thumbprint]])
        func ask(_ authorization: String, proof: String?) async throws -> Bool? {
            let dpop = proof.map { #","dpop":"\#($0)""# } ?? ""
            let body = #"{"context":{"method":"GET","uri":"/api/users?page=2","headers":{"Authorization":"\#(authorization)","Host":"mock.example"\#(dpop)}}}"#
            return try await tg.post("/plugin/authenticate", json: body).authenticated
        }
        #expect(try await ask("DPoP " + bound, proof: client.proof(token: bound, uri: "http://mock.example/api/users", iat: now)) == true)
        #expect(try await ask("DPoP " + bound, proof: client.proof(token: bound, uri: "http://mock.example/api/other", iat: now)) == false)
        #expect(try await ask("Bearer " + bound, proof: nil) == false, "bound, as a bearer token")
    }

    @Test func serverNoncesAreDemandedHandedOutAndRolledOver() async throws {
        let forge = TokenForge()
        let tg = try await JWTTests.start(forge) {
            $0.inbound.dpop.requireNonce = true
            $0.inbound.dpop.nonceLifetimeSeconds = 60
        }
        defer { Task { await tg.stop() } }
        // One second into a 60 s nonce window, so that the steps below land in the next window and
        // the one after, whatever the time the test starts at.
        tg.clock.advance(by: 61 - tg.clock.now().truncatingRemainder(dividingBy: 60))
        let client = Client()
        let bound = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now(), claims: ["cnf": ["jkt": client.thumbprint]])
        func ask(nonce: String?) async throws -> RunningTollgate.Answer {
            let proof = client.proof(token: bound, iat: tg.clock.now(), claims: ["nonce": nonce])
            return try await tg.get("/auth", headers: Self.dpop(bound, [proof]))
        }
        let withoutNonce = try await ask(nonce: nil)
        let first = try #require(withoutNonce.header("DPoP-Nonce"), "the nonce to use comes with the refusal")
        #expect(withoutNonce.status == 401 && withoutNonce.header("WWW-Authenticate")?.hasPrefix(#"DPoP error="use_dpop_nonce""#) == true)
        let passed = try await ask(nonce: first)
        #expect(passed.status == 200 && passed.header("DPoP-Nonce") == first, "the nonce passes and is still current")
        for hostile in ["", "not-a-nonce", String(first.reversed()), String(repeating: "A", count: 43)] {
            let refused = try await ask(nonce: hostile)
            #expect(refused.status == 401 && refused.header("WWW-Authenticate")?.contains("use_dpop_nonce") == true, "nonce \(hostile)")
        }
        tg.clock.advance(by: 70)
        let rolled = try await ask(nonce: first)
        let second = try #require(rolled.header("DPoP-Nonce"))
        #expect(rolled.status == 200 && second != first, "the last window's nonce still passes, and a new one is handed out")
        tg.clock.advance(by: 70)
        #expect(try await ask(nonce: first).status == 401, "two windows on, the first nonce is refused")
        #expect(try await ask(nonce: second).status == 200)
        // A bearer token with no binding is untouched by nonces.
        let unbound = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now())
        let plain = try await tg.get("/auth", headers: [("Authorization", "Bearer " + unbound)])
        #expect(plain.status == 200 && plain.header("DPoP-Nonce") == nil)
    }
}
