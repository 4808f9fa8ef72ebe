import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing
@testable import TollgateServer
@testable import TollgateOutbound
import TollgateConfiguration
import TollgateKit

/// Outbound DPoP (RFC 9449) against a peer written here that checks each proof on its own (with
/// swift-crypto, not Tollgate's verifier) and asks for a nonce first, at the token endpoint and at
/// the resource, as RFC 9449 §8 and §9 allow.
@Suite("outbound DPoP")
struct OutboundDPoPTests {
    /// What the peer saw, and the proof checks it applies.
    final class Peer: Sendable {
        let base: String
        let seen = Mutex<
            (jtis: Set<String>, thumbprints: Set<String>, problems: [String], tokenRequests: Int, resourceRequests: Int, resourceKeys: [String])
        >(([], [], [], 0, 0, []))

        static func token(boundTo thumbprint: String) -> String { "tok-" + thumbprint }

        static func nonce(of proof: String?) -> String? {
            proof.flatMap { $0.split(separator: ".").dropFirst().first }.flatMap(decode)?["nonce"] as? String
        }

        init(base: String) { self.base = base }

        static func decode(_ segment: Substring) -> [String: Any]? {
            guard let bytes = Base64URL.decode(String(segment)) else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        }

        /// The key's thumbprint when `proof` is a valid ES256 DPoP proof for `method` `url` (and `token`, `nonce`); else what is wrong.
        func verify(_ proof: String?, method: String, url: String, token: String?, nonce: String?) -> Result<String, Problem> {
            guard let proof else { return .failure(Problem("no proof")) }
            let parts = proof.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, let header = Self.decode(parts[0]), let claims = Self.decode(parts[1]),
                let signature = Base64URL.decode(String(parts[2]))
            else { return .failure(Problem("malformed")) }
            guard header["typ"] as? String == "dpop+jwt", header["alg"] as? String == "ES256", let jwk = header["jwk"] as? [String: String],
                jwk["d"] == nil, let x = jwk["x"].flatMap(Base64URL.decode), let y = jwk["y"].flatMap(Base64URL.decode),
                let key = try? P256.Signing.PublicKey(rawRepresentation: x + y),
                let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
                key.isValidSignature(ecdsa, for: Array((parts[0] + "." + parts[1]).utf8))
            else { return .failure(Problem("header or signature")) }
            guard claims["htm"] as? String == method, claims["htu"] as? String == url else { return .failure(Problem("htm/htu \(claims)")) }
            guard let iat = claims["iat"] as? Int, abs(Double(iat) - Date().timeIntervalSince1970) < 60 else { return .failure(Problem("iat")) }
            if let token {
                guard claims["ath"] as? String == Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8)))) else { return .failure(Problem("ath")) }
            }
            guard claims["nonce"] as? String == nonce else { return .failure(Problem("nonce")) }
            guard let jti = claims["jti"] as? String, seen.withLock({ $0.jtis.insert(jti).inserted }) else { return .failure(Problem("jti replayed")) }
            let thumbprint = Base64URL.encode(
                Array(SHA256.hash(data: Array(#"{"crv":"P-256","kty":"EC","x":"\#(jwk["x"]!)","y":"\#(jwk["y"]!)"}"#.utf8))))
            seen.withLock { _ = $0.thumbprints.insert(thumbprint) }
            return .success(thumbprint)
        }

        struct Problem: Error {
            let text: String
            init(_ text: String) { self.text = text }
        }

        /// The thumbprint, or nil after noting what was wrong.
        @discardableResult
        func noted(_ result: Result<String, Problem>) -> String? {
            switch result {
            case .success(let thumbprint): return thumbprint
            case .failure(let problem):
                seen.withLock { $0.problems.append(problem.text) }
                return nil
            }
        }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("/token") { request, _ -> Response in
                let proof = request.headers[values: HTTPField.Name("DPoP")!].first
                let count = self.seen.withLock { state -> Int in
                    state.tokenRequests += 1
                    return state.tokenRequests
                }
                // A proof without this server's nonce is asked for one (the first request has none).
                if Self.nonce(of: proof) != "token-nonce-1" {
                    var response = Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"use_dpop_nonce"}"#)))
                    response.headers[HTTPField.Name("DPoP-Nonce")!] = "token-nonce-1"
                    return response
                }
                let verified = self.verify(proof, method: "POST", url: self.base + "/token", token: nil, nonce: "token-nonce-1")
                guard let thumbprint = self.noted(verified) else { return Response(status: .badRequest) }
                // The token names its key, so the resource can tell which key must sign its proofs.
                let token = Self.token(boundTo: thumbprint)
                return Response(
                    status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"access_token":"\#(token)","token_type":"DPoP","expires_in":3600}"#)))
            }
            router.get("/dicom-web/studies") { request, _ -> Response in
                let count = self.seen.withLock { state -> Int in
                    state.resourceRequests += 1
                    return state.resourceRequests
                }
                guard let authorization = request.headers[.authorization], authorization.hasPrefix("DPoP tok-") else {
                    self.noted(.failure(Problem("scheme: \(request.headers[.authorization] ?? "none")")))
                    return Response(status: .unauthorized)
                }
                let token = String(authorization.dropFirst("DPoP ".count))
                let proof = request.headers[values: HTTPField.Name("DPoP")!].first
                if Self.nonce(of: proof) != "resource-nonce-1" {
                    var response = Response(status: .unauthorized)
                    response.headers[.wwwAuthenticate] = #"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#
                    response.headers[HTTPField.Name("DPoP-Nonce")!] = "resource-nonce-1"
                    return response
                }
                let verified = self.verify(proof, method: "GET", url: self.base + "/dicom-web/studies", token: token, nonce: "resource-nonce-1")
                guard let thumbprint = self.noted(verified) else { return Response(status: .unauthorized) }
                guard token == Self.token(boundTo: thumbprint) else {
                    self.noted(.failure(Problem("a proof by another key than the token's")))
                    return Response(status: .unauthorized)
                }
                self.seen.withLock { $0.resourceKeys.append(thumbprint) }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "[]")))
            }
            return router
        }
    }

    /// The peer on a port of its own, and a Tollgate whose outbound server `pacs` is a DPoP client of it.
    static func start(keyFile: String? = nil) async throws -> (Peer, TestHTTPServer, RunningTollgate) {
        let port = try await freePort()
        let peer = Peer(base: "http://127.0.0.1:\(port)")
        let server = try await TestHTTPServer.start(router: peer.router(), port: port)
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            var pacs = OutboundServerConfig(
                url: peer.base + "/dicom-web/", tokenEndpoint: peer.base + "/token", clientID: "tollgate", clientSecret: "tollgate-secret")
            pacs.dpop = true
            pacs.dpopKeyFile = keyFile
            config.outbound.servers = ["pacs": pacs]
        }
        return (peer, server, tg)
    }

    @Test func aDPoPBoundTokenIsFetchedAndSentWithAFreshProofThroughTheProxyOnly() async throws {
        let (peer, server, tg) = try await Self.start()
        defer { Task { await server.stop() } }
        defer { Task { await tg.stop() } }
        let first = try await tg.get("/proxy/pacs/studies?PatientID=1", headers: apiKeyHeader)
        #expect(first.status == 200, "\(first.status) \(first.body) \(peer.seen.withLock { $0.problems })")
        let second = try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader)
        #expect(second.status == 200, "the nonce is kept for the next proof")
        let seen = peer.seen.withLock { $0 }
        #expect(seen.problems.isEmpty, "\(seen.problems)")
        #expect(seen.tokenRequests == 2 && seen.resourceRequests == 3, "one nonce round trip each: \(seen.tokenRequests) \(seen.resourceRequests)")
        #expect(seen.thumbprints.count == 1, "one key signs every proof")
        // The token is bound to Tollgate's key: never handed to a caller.
        let handout = try await tg.get("/token/pacs", headers: apiKeyHeader)
        #expect(handout.status == 409 && handout.body.contains("DPOP_BOUND"), "\(handout.status) \(handout.body)")
        #expect(!tg.logs.text.contains("tok-"))
    }

    @Test func anOrthancPushOfADPoPServerIsAConfigError() throws {
        var config = TollgateConfig()
        var pacs = OutboundServerConfig(url: "https://pacs.example/dicom-web/", tokenEndpoint: "https://idp.example/token", clientID: "c", clientSecret: "s")
        pacs.dpop = true
        pacs.dpopKeyFile = "/nonexistent/dpop.pem"
        config.outbound.servers = ["pacs": pacs]
        config.orthanc.url = "http://127.0.0.1:8042"
        config.orthanc.dicomwebServers = ["pacs": OrthancDicomWebServerConfig(outboundServer: "pacs")]
        let problems = config.allProblems(decoding: []).map { "\($0.path): \($0.message)" }
        #expect(problems.contains { $0.hasPrefix("orthanc.dicomweb_servers.pacs.outbound_server: outbound server pacs has dpop: true") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("outbound.servers.pacs.dpop_key_file: file is not readable") }, "\(problems)")
    }

    @Test func aRotatedKeyFileSignsTheNextProofsAndItsOldTokenIsDropped() async throws {
        let directory = scratchDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyFile = directory + "/dpop.pem"
        let first = P256.Signing.PrivateKey(), second = P256.Signing.PrivateKey()
        try first.pemRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)

        let (peer, server, tg) = try await Self.start(keyFile: keyFile)
        defer { Task { await server.stop() } }
        defer { Task { await tg.stop() } }
        let keyFiles = tg.app.outbound.dpopKeyFiles
        #expect(keyFiles.count == 1 && keyFiles.first?.reloadIfChanged() == nil, "unchanged")
        #expect(try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader).status == 200)

        try "not a key".write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect(keyFiles[0].reloadIfChanged() == .unusable("not a readable P-256 private key in PEM"))
        #expect(try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader).status == 200, "the old key and its token stay")

        try second.pemRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)
        guard case .rotated(let thumbprint)? = keyFiles[0].reloadIfChanged() else {
            Issue.record("the new key was not taken")
            return
        }
        #expect(try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader).status == 200)
        let seen = peer.seen.withLock { $0 }
        #expect(seen.problems.isEmpty, "\(seen.problems)")
        #expect(seen.resourceKeys.count == 3 && seen.resourceKeys.last == thumbprint && Set(seen.resourceKeys).count == 2, "\(seen.resourceKeys)")
        #expect(seen.tokenRequests == 3, "one nonce round trip, then a token per key: \(seen.tokenRequests)")
    }
}
