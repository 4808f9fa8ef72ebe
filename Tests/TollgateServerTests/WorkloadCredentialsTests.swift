import Crypto
import Foundation
import JWTKit
import NIOHTTP1
import Testing
import _CryptoExtras
@testable import TollgateOutbound
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// `google_service_account` and `client_assertion_file` against token endpoints written here that
/// check requests the way Google's and Entra's do.
@Suite("workload credentials: Google service accounts and client assertion files")
struct WorkloadCredentialsTests {
    static let email = "tollgate@hospital-project.iam.gserviceaccount.com"
    static let keyID = "3f2b1c0d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"

    /// A key file shaped like the ones the Google Cloud console downloads.
    static func writeKeyFile(_ key: _RSA.Signing.PrivateKey, tokenURI: String) throws -> String {
        let file: [String: String] = [
            "type": "service_account", "project_id": "hospital-project", "private_key_id": keyID,
            "private_key": key.pemRepresentation, "client_email": email, "client_id": "104512345678901234567",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": tokenURI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/tollgate",
            "universe_domain": "googleapis.com",
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-sa-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: path))
        return path
    }

    struct GrantClaims: JWTPayload {
        let iss: IssuerClaim
        let sub: SubjectClaim
        let aud: AudienceClaim
        let scope: String
        let iat: IssuedAtClaim
        let exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    static func json(segment: Substring) -> [String: Any]? {
        var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// What Google's token endpoint requires of the JWT-bearer grant; nil when all of it holds.
    static func googleRefusal(_ request: PeerServer.TokenRequest, publicKey: _RSA.Signing.PublicKey, tokenURI: String, scope: String) async -> String? {
        guard request.contentType?.hasPrefix("application/x-www-form-urlencoded") == true else { return "content type" }
        guard Set(request.form.keys) == ["grant_type", "assertion"] else { return "form fields \(request.form.keys.sorted())" }
        guard request.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" else { return "grant_type" }
        guard request.authorization == nil else { return "no client authentication expected" }
        let assertion = request.form["assertion"] ?? ""
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = json(segment: parts[0]), let payload = json(segment: parts[1]) else { return "not a JWS" }
        guard header["alg"] as? String == "RS256", header["kid"] as? String == keyID else { return "header \(header)" }
        guard Set(payload.keys) == ["iss", "sub", "aud", "scope", "iat", "exp"] else { return "claims \(payload.keys.sorted())" }
        guard payload["aud"] as? String == tokenURI else { return "aud must be the token_uri, as a string" }
        let keys = JWTKeyCollection()
        do {
            await keys.add(rsa: try Insecure.RSA.PublicKey(pem: publicKey.pemRepresentation), digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyID))
            let claims = try await keys.verify(assertion, as: GrantClaims.self)
            guard claims.iss.value == email, claims.sub.value == email else { return "iss/sub" }
            guard claims.scope == scope else { return "scope \(claims.scope)" }
            let life = claims.exp.value.timeIntervalSince(claims.iat.value)
            guard life > 0, life <= 3600 else { return "lifetime \(life)" }
            guard abs(claims.iat.value.timeIntervalSinceNow) < 120 else { return "iat not now" }
        } catch {
            return "signature: \(error)"
        }
        return nil
    }

    @Test func googleServiceAccountPerformsTheJWTBearerGrantAsGoogleDocumentsIt() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let keyFile = try Self.writeKeyFile(key, tokenURI: peer.tokenURL)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let publicKey = key.publicKey
        let tokenURL = peer.tokenURL
        peer.checkGrants { request in
            await Self.googleRefusal(request, publicKey: publicKey, tokenURI: tokenURL, scope: "https://www.googleapis.com/auth/cloud-healthcare")
        }
        let tg = try await RunningTollgate.start(waitReady: false) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = [
                "google": try! ConfigLoader.parse(
                    yaml: """
                        outbound:
                          servers:
                            google:
                              url: \(peer.upstreamURL)
                              auth_method: google_service_account
                              service_account_file: \(keyFile)
                        """, environment: [:]
                ).outbound.servers["google"]!
            ]
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["google"]!.status.tokenValid }
        #expect(peer.refusals == [])
        #expect(peer.tokenRequests.count == 1)
        let proxied = try await tg.get("/proxy/google/studies", headers: apiKeyHeader)
        #expect(proxied.status == 200)
        #expect(peer.upstreamRequests.last?.header("Authorization")?.hasPrefix("Bearer peer-token-1-") == true)
        #expect(!tg.logs.text.contains("BEGIN PRIVATE KEY") && !tg.logs.text.contains("peer-token-"))
    }

    /// The same endpoint refuses an assertion signed by any other key: the check above has teeth.
    @Test func aGrantSignedWithAnotherKeyIsRefusedByTheTestEndpoint() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let keyFile = try Self.writeKeyFile(other, tokenURI: "https://oauth2.googleapis.com/token")
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let grant = try await GoogleServiceAccountGrant.load(file: keyFile, scope: "s")
        var form: [(String, String)] = [("grant_type", "client_credentials")]
        var headers = HTTPHeaders()
        try await grant.apply(form: &form, headers: &headers, endpoint: grant.tokenURI, now: Date().timeIntervalSince1970)
        let request = PeerServer.TokenRequest(
            form: Dictionary(uniqueKeysWithValues: form), authorization: nil, at: .now,
            contentType: "application/x-www-form-urlencoded")
        let refusal = await Self.googleRefusal(request, publicKey: key.publicKey, tokenURI: grant.tokenURI, scope: "s")
        #expect(refusal?.hasPrefix("signature") == true)
        #expect(await Self.googleRefusal(request, publicKey: other.publicKey, tokenURI: grant.tokenURI, scope: "s") == nil)
    }

    @Test func aBrokenKeyFileStopsStartUpNamingItsKey() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-sa-\(UUID().uuidString).json").path
        try
            #"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n","private_key_id":"k","token_uri":"https://oauth2.googleapis.com/token"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var server = OutboundServerConfig(url: "https://pacs/", tokenEndpoint: "", clientID: "", clientSecret: nil, authMethod: .googleServiceAccount)
        server.serviceAccountFile = path
        do {
            let tg = try await RunningTollgate.start(waitReady: false) { config in
                config.admin = AdminConfig(apiKeys: [testAPIKey])
                config.outbound.servers = ["google": server]
            }
            await tg.stop()
            Issue.record("start-up should have failed")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.description) == ["outbound.servers.google.service_account_file: \(path): private_key is not a PEM RSA private key"])
        }
    }

    /// A JWT-shaped assertion (its content does not matter to Tollgate, only to the IdP).
    static func assertion(_ marker: String) -> String {
        func part(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        return part(#"{"alg":"RS256","kid":"aks"}"#) + "." + part(#"{"iss":"https://oidc.aks","sub":"system:serviceaccount:pacs:tollgate","m":"\#(marker)"}"#)
            + ".c2ln"
    }

    @Test func clientAssertionFileIsReadForEveryTokenRequestAndNeverLogged() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-fed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let first = Self.assertion("first"), second = Self.assertion("second")
        try (first + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let tg = try await OutboundFaultTests.start(peer) { server in
            server.authMethod = .clientAssertionFile
            server.clientSecret = nil
            server.clientID = "11111111-2222-3333-4444-555555555555"
            server.clientAssertionFile = file
        }
        defer { Task { await tg.stop() } }
        try await waitUntil { tg.app.outbound["peer"]!.status.tokenValid }
        // The projected token rotates under the same path; the next request must carry the new one.
        try (second + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await tg.post("/dicomweb-oauth/servers/peer/test", body: [], headers: apiKeyHeader)
        let requests = peer.tokenRequests
        #expect(requests.map { $0.form["client_assertion"] } == [first, second])
        for request in requests {
            #expect(request.authorization == nil)
            #expect(request.form["grant_type"] == "client_credentials")
            #expect(request.form["client_id"] == "11111111-2222-3333-4444-555555555555")
            #expect(request.form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            #expect(request.form["client_secret"] == nil)
            #expect(request.form["scope"] == "dicom.read")
        }
        // Not a JWT (a half-written file, the wrong file): nothing is sent, and the failure says why.
        try "not-a-jwt".write(toFile: file, atomically: true, encoding: .utf8)
        let test = try await tg.post("/dicomweb-oauth/servers/peer/test", body: [], headers: apiKeyHeader)
        #expect(peer.tokenRequests.count == 2)
        #expect(test.body.contains("credentials"), "\(test.body)")
        #expect(test.body.contains("does not hold a JWT"))
        try FileManager.default.removeItem(atPath: file)
        _ = try await tg.post("/dicomweb-oauth/servers/peer/test", body: [], headers: apiKeyHeader)
        #expect(peer.tokenRequests.count == 2)
        for secret in [first, second, "not-a-jwt"] { #expect(!tg.logs.text.contains(secret)) }
    }
}
