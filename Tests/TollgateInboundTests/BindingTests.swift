import Foundation
import Testing
@testable import TollgateInbound
import TollgateConfiguration
import TollgateKit

/// The pieces of sender-constrained token checks that need no HTTP: reading `cnf`, the
/// credential schemes, `htu` comparison and the replay cache.
@Suite("token binding building blocks")
struct BindingTests {
    static func object(_ json: String) throws -> JSONObject {
        try StrictJSON.object(Array(json.utf8))
    }

    @Test func cnfIsReadFromJWTClaimsAndIntrospectionAnswersAlike() throws {
        let dpop = try ClaimsReader(Self.object(#"{"active":true,"sub":"a","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}"#)).tokenClaims()
        #expect(dpop.binding == TokenBinding(keyThumbprint: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"))
        let certificate = try ClaimsReader(Self.object(#"{"sub":"a","cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}"#)).tokenClaims()
        #expect(certificate.binding?.certificateThumbprint == "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2")
        #expect(try ClaimsReader(Self.object(#"{"sub":"a"}"#)).tokenClaims().binding == nil)
        #expect(try ClaimsReader(Self.object(#"{"sub":"a","cnf":null}"#)).tokenClaims().binding == nil)
        for hostile in [
            #"{"cnf":"jkt"}"#, #"{"cnf":{}}"#, #"{"cnf":{"jkt":7}}"#, #"{"cnf":{"jkt":""}}"#, #"{"cnf":{"jwk":{"kty":"EC"}}}"#,
            #"{"cnf":{"jkt":"abc","kid":"k"}}"#, #"{"cnf":[1]}"#,
        ] {
            #expect(try ClaimsReader(Self.object(hostile)).tokenClaims().binding?.unsupported != nil, "\(hostile)")
        }
    }

    @Test func credentialSchemes() {
        func scheme(_ value: String) -> TokenPresentation.Scheme? {
            if case .success((_, let scheme)) = BearerToken.extractWithScheme(fromAuthorization: [value]) { return scheme }
            return nil
        }
        #expect(scheme("Bearer abc") == .bearer)
        #expect(scheme("DPoP abc") == .dpop)
        #expect(scheme("dpop abc") == .dpop)
        #expect(scheme("DPoPabc") == nil)
        #expect(scheme("Basic abc") == nil)
        if case .failure(let reason) = BearerToken.extractWithScheme(fromAuthorization: ["DPoP"]) { #expect(reason == .malformed) }
        if case .failure(let reason) = BearerToken.extractWithScheme(fromAuthorization: ["DPoP a", "DPoP b"]) { #expect(reason == .malformed) }
    }

    @Test func htuComparisonIgnoresWhatRFC9449Ignores() {
        let base = ProofTargetURI("https://server.example.com/path")
        #expect(base != nil)
        for same in [
            "HTTPS://Server.Example.COM/path", "https://server.example.com:443/path", "https://server.example.com/path?x=1",
            "https://server.example.com/path#f", "https://server.example.com/path?x=1#f",
        ] {
            #expect(ProofTargetURI(same) == base, "\(same)")
        }
        for other in [
            "http://server.example.com/path", "https://server.example.com:8443/path", "https://server.example.com/Path",
            "https://server.example.com/path/", "https://other.example.com/path",
        ] {
            #expect(ProofTargetURI(other) != base, "\(other)")
        }
        #expect(ProofTargetURI("https://h.example/a%2fb") == ProofTargetURI("https://h.example/a%2Fb"))
        #expect(ProofTargetURI("https://h.example") == ProofTargetURI("https://h.example/"))
        #expect(ProofTargetURI("http://[::1]:80/x") == ProofTargetURI("http://[::1]/x"))
        for invalid in ["ftp://h.example/x", "https://user@h.example/x", "https:/h.example", "https://:443/x", "https://h.example:99999/x", "/relative"] {
            #expect(ProofTargetURI(invalid) == nil, "\(invalid)")
        }
    }

    @Test func theReplayCacheRefusesAReplayAndNeverForgetsALiveJti() {
        let clock = ManualClock(1_000)
        let cache = DPoPReplayCache(capacity: 2, clock: clock)
        #expect(cache.use(jti: "a", thumbprint: "k1", until: 1_060) == .fresh)
        #expect(cache.use(jti: "a", thumbprint: "k1", until: 1_060) == .replayed)
        #expect(cache.use(jti: "a", thumbprint: "k2", until: 1_060) == .fresh, "another key's jti of the same name")
        #expect(cache.use(jti: "b", thumbprint: "k1", until: 1_060) == .full, "both entries live: refused, not forgotten")
        clock.advance(by: 61)
        #expect(cache.use(jti: "b", thumbprint: "k1", until: 1_120) == .fresh, "expired entries make room")
        #expect(cache.use(jti: "a", thumbprint: "k1", until: 1_120) == .fresh, "a jti past its proof's life may come again")
    }

    @Test func replicasWithOneNonceKeyFileAcceptEachOthersNonces() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nonce-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let shared = directory.appendingPathComponent("key").path
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: shared))
        let short = directory.appendingPathComponent("short").path
        try Data("too short".utf8).write(to: URL(fileURLWithPath: short))

        let clock = ManualClock(1_765_000_000)
        let replicaA = try DPoPNonces(keyFile: shared, lifetimeSeconds: 300, clock: clock)
        let replicaB = try DPoPNonces(keyFile: shared, lifetimeSeconds: 300, clock: clock)
        let ownKey = try DPoPNonces(keyFile: nil, lifetimeSeconds: 300, clock: clock)
        let nonce = replicaA.current()
        #expect(nonce.utf8.count == 43 && replicaB.current() == nonce && replicaB.accepts(nonce))
        #expect(!ownKey.accepts(nonce), "another key's nonce")
        clock.advance(by: 300)
        #expect(replicaB.accepts(nonce) && replicaB.current() != nonce, "accepted one window on")
        clock.advance(by: 300)
        #expect(!replicaB.accepts(nonce), "refused two windows on")
        #expect(throws: ConfigErrors.self) { try DPoPNonces(keyFile: short, lifetimeSeconds: 300, clock: clock) }
        #expect(throws: ConfigErrors.self) { try DPoPNonces(keyFile: directory.appendingPathComponent("absent").path, lifetimeSeconds: 300, clock: clock) }
    }
}
