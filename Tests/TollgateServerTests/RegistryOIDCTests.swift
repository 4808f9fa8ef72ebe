import Crypto
import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// The code flow as OIDC and RFC 7009 want it, against the test IdP over loopback: a nonce and a
/// checked ID token with `openid`, public clients (PKCE only), `private_key_jwt` with a sealed key,
/// the IdP's own words on a refusal, `form_post` and a page for browsers, and revocation at the
/// IdP of whatever a connection gives up.
@Suite("registry: OIDC code flow, public clients, revocation")
struct RegistryOIDCTests {
    typealias F = ConnectionFlowsTests

    static func openIDBody(_ idp: CodeFlowIdP, name: String = "vna", client: String = CodeFlowIdP.clientID, extra: String = "") -> String {
        let secret = client == CodeFlowIdP.clientID ? #","client_secret":"\#(CodeFlowIdP.clientSecret)""# : ""
        return
            #"{"connection_name":"\#(name)","oauth_flow_type":"authorization_code","client_id":"\#(client)"\#(secret),"token_url":"\#(idp.tokenURL)","authorization_url":"\#(idp.authorizationURL)","issuer":"\#(idp.issuer)","scopes":"openid dicom.read"\#(extra)}"#
    }

    /// Authorize, let the IdP approve, and bring the redirect back; the callback's answer.
    static func connect(
        _ tg: RunningTollgate, _ idp: CodeFlowIdP, name: String = "vna", headers: [(String, String)] = []
    )
        async throws -> (answer: RunningTollgate.Answer, query: [String: String])
    {
        let started = try await tg.post("/oauth/connections/\(name)/authorize", json: "", headers: apiKeyHeader)
        let url = try #require(started.json["authorization_url"] as? String, "\(started.body)")
        let query = (URLComponents(string: url)?.queryItems ?? []).reduce(into: [String: String]()) { $0[$1.name] = $1.value }
        let callback = try idp.approve(url)
        return (try await tg.get("/oauth/callback/\(name)" + F.query(callback), headers: headers), query)
    }

    @Test func openIDSendsANonceAndEveryBadIDTokenIsRefusedBeforeAnythingIsKept() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await F.start(scratchDirectory())
        defer { Task { await tg.stop() } }
        let withoutIssuer = Self.openIDBody(idp).replacingOccurrences(of: #","issuer":"\#(idp.issuer)""#, with: "")
        #expect(try await tg.post("/oauth/connections", json: withoutIssuer, headers: apiKeyHeader).status == 400, "openid needs an issuer to check against")
        #expect(try await tg.post("/oauth/connections", json: Self.openIDBody(idp), headers: apiKeyHeader).status == 201)

        let faults: [CodeFlowIdP.IDTokenFault] = [.missing, .wrongNonce, .wrongAudience, .unsigned, .foreignKey, .expired, .wrongIssuer]
        for fault in faults {
            idp.setIDTokenFault(fault)
            let before = idp.revocations.count
            let (answer, _) = try await Self.connect(tg, idp)
            #expect(answer.status == 400 && answer.json["error"] as? String == "ID_TOKEN_INVALID", "\(fault): \(answer.body)")
            let view = try await tg.get("/oauth/connections/vna", headers: apiKeyHeader)
            #expect(view.json["status"] as? String == "failed" && view.json["has_refresh_token"] as? Bool == false, "\(fault): nothing kept")
            #expect(idp.revocations.count == before + 2, "\(fault): the refused exchange's tokens are revoked at the IdP")
        }
        idp.setIDTokenFault(.none)
        let (answer, query) = try await Self.connect(tg, idp)
        #expect((query["nonce"]?.utf8.count ?? 0) >= 43 && query["scope"] == "openid dicom.read")
        #expect(answer.status == 200 && answer.json["status"] as? String == "completed", "\(answer.body)")
        #expect(try await tg.get("/oauth/credentials/vna", headers: apiKeyHeader).status == 200)
    }

    @Test func aPublicClientHoldsNoSecretAndAKeyClientSignsWithASealedRotatableKey() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let directory = scratchDirectory()
        let tg = try await F.start(directory)
        defer { Task { await tg.stop() } }

        // Public: no client_secret, so auth_method none; PKCE binds the code.
        let created = try await tg.post(
            "/oauth/connections", json: Self.openIDBody(idp, name: "viewer", client: CodeFlowIdP.publicClientID), headers: apiKeyHeader)
        #expect(created.status == 201 && created.json["auth_method"] as? String == "none" && created.json["has_client_secret"] as? Bool == false)
        #expect(try await Self.connect(tg, idp, name: "viewer").answer.json["status"] as? String == "completed")
        #expect(try await tg.post("/oauth/connections/viewer/test", json: "", headers: apiKeyHeader).status == 200, "a public client refreshes too")
        let cc = #"{"connection_name":"x","oauth_flow_type":"client_credentials","client_id":"a","token_url":"\#(idp.tokenURL)","auth_method":"none"}"#
        #expect(try await tg.post("/oauth/connections", json: cc, headers: apiKeyHeader).status == 400, "client credentials need a credential")
        let both = Self.openIDBody(idp, name: "y", extra: #","token_endpoint_auth_method":"none""#)
        #expect(try await tg.post("/oauth/connections", json: both, headers: apiKeyHeader).status == 400, "a public client holds no secret")

        // private_key_jwt: the key is sealed, never returned, and rotated through PUT.
        let pem = idp.clientKey.pemRepresentation
        let keyBody = Self.openIDBody(idp, name: "signed", client: CodeFlowIdP.keyClientID, extra: #","private_key":\#(JSONText.string(pem))"#)
        let signed = try await tg.post("/oauth/connections", json: keyBody, headers: apiKeyHeader)
        #expect(
            signed.status == 201 && signed.json["auth_method"] as? String == "private_key_jwt" && signed.json["has_private_key"] as? Bool == true,
            "\(signed.body)")
        #expect(!signed.body.contains("PRIVATE KEY"))
        #expect(try await Self.connect(tg, idp, name: "signed").answer.json["status"] as? String == "completed")
        let wrongKey = JSONText.string(P256.Signing.PrivateKey().pemRepresentation)
        #expect(try await tg.put("/oauth/connections/signed", json: #"{"private_key":\#(wrongKey)}"#, headers: apiKeyHeader).status == 200)
        #expect(try await tg.post("/oauth/connections/signed/test", json: "", headers: apiKeyHeader).status == 503, "the IdP refuses the other key")
        #expect(try await tg.put("/oauth/connections/signed", json: #"{"private_key":\#(JSONText.string(pem))}"#, headers: apiKeyHeader).status == 200)
        let moved = try await tg.put("/oauth/connections/signed", json: #"{"token_url":"http://127.0.0.1:9/token"}"#, headers: apiKeyHeader)
        #expect(moved.status == 400 && moved.json["error"] as? String == "SECRET_REQUIRED", "a new token_url needs the key again")
        #expect(try await tg.put("/oauth/connections/signed", json: #"{"private_key":"not a key"}"#, headers: apiKeyHeader).status == 400)
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory) {
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + file))
            #expect(bytes.range(of: Data("PRIVATE KEY".utf8)) == nil, "\(file): the key is only ever sealed")
        }
    }

    @Test func theIdPsWordsArePassedOnCleanAndTheCallbackTakesFormPostAndAnswersBrowsers() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await F.start(scratchDirectory())
        defer { Task { await tg.stop() } }
        _ = try await tg.post("/oauth/connections", json: F.codeBody(idp), headers: apiKeyHeader)

        // error + error_description: passed on without control characters or the client's secret.
        let started = try await tg.post("/oauth/connections/vna/authorize", json: "", headers: apiKeyHeader)
        let state = try #require(started.json["state"] as? String)
        let denied = try await tg.get(
            "/oauth/callback/vna"
                + F.query([
                    "state": state, "error": "access_denied",
                    "error_description": "The user said no\n\u{1B}[31m (client \(CodeFlowIdP.clientSecret))",
                ]))
        let message = denied.json["message"] as? String ?? ""
        #expect(denied.status == 400 && denied.json["error"] as? String == "AUTHORIZATION_DENIED")
        #expect(message.contains("access_denied: The user said no") && !message.contains("\u{1B}") && !message.contains(CodeFlowIdP.clientSecret), "\(message)")
        let failed = try await tg.get("/oauth/connections/vna", headers: apiKeyHeader)
        #expect((failed.json["status_message"] as? String ?? "").contains("The user said no"))

        // response_mode=form_post: the same parameters as a form body.
        let url = try #require(try await tg.post("/oauth/connections/vna/authorize", json: "", headers: apiKeyHeader).json["authorization_url"] as? String)
        let form = FormEncoding.encode(try idp.approve(url).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let posted = try await tg.post("/oauth/callback/vna", body: Array(form.utf8), headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(posted.status == 200 && posted.json["status"] as? String == "completed", "\(posted.body)")

        // A browser gets a page in plain words and no token or code; a state twice is refused.
        let (page, _) = try await Self.connect(tg, idp, headers: [("Accept", "text/html,application/xhtml+xml")])
        #expect(page.status == 200 && page.header("Content-Type")?.hasPrefix("text/html") == true && page.body.contains("Connected"))
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true && page.header("Referrer-Policy") == "no-referrer")
        #expect(!page.body.contains("code-") && !page.body.contains("code-flow-at-") && !page.body.contains("rt-"))
        let replayed = try await tg.get("/oauth/callback/vna?state=x&state=y", headers: [("Accept", "text/html")])
        #expect(replayed.status == 400 && replayed.body.contains("Not connected") && replayed.body.contains("more than once"))
        let hostile = try await tg.get("/oauth/callback/vna" + F.query(["state": "<script>alert(1)</script>"]), headers: [("Accept", "text/html")])
        #expect(hostile.status == 400 && !hostile.body.contains("<script>"))
    }

    @Test func deletingOrReauthorizingRevokesAtTheIdPAndAFailedRevocationBlocksNothing() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await F.start(scratchDirectory())
        defer { Task { await tg.stop() } }
        _ = try await tg.post("/oauth/connections", json: Self.openIDBody(idp), headers: apiKeyHeader)
        _ = try await Self.connect(tg, idp)
        let first = idp.liveRefreshTokens

        // A new authorization replaces the refresh token: the old one is revoked (found by discovery).
        _ = try await Self.connect(tg, idp)
        #expect(idp.revocations.map(\.token) == Array(first) && idp.revocations.first?.hint == "refresh_token")
        let held = idp.liveRefreshTokens
        #expect(held.count == 1 && held.isDisjoint(with: first))

        // Delete: the refresh token and the live access token are revoked with the client's own credentials.
        let access = try #require(try await tg.get("/oauth/credentials/vna", headers: apiKeyHeader).json["access_token"] as? String)
        #expect(try await tg.send("/oauth/connections/vna", method: .DELETE, headers: apiKeyHeader, body: nil).status == 204)
        let last = idp.revocations.suffix(2)
        #expect(last.map(\.token) == [held.first!, access] && last.map(\.hint) == ["refresh_token", "access_token"])
        #expect(last.allSatisfy { $0.clientID == CodeFlowIdP.clientID } && idp.liveRefreshTokens.isEmpty)
        #expect(try await tg.metric(#"tollgate_registry_revocations_total{token_type="refresh_token",result="revoked"}"#) == 2)

        // An IdP that fails the revocation: the delete still happens; a warning and a count, no token in the log.
        _ = try await tg.post("/oauth/connections", json: Self.openIDBody(idp, extra: #","revocation_url":"\#(idp.revocationURL)""#), headers: apiKeyHeader)
        _ = try await Self.connect(tg, idp)
        idp.setRevocationStatus(503)
        let token = try #require(idp.liveRefreshTokens.first)
        #expect(try await tg.send("/oauth/connections/vna", method: .DELETE, headers: apiKeyHeader, body: nil).status == 204)
        #expect(try await tg.get("/oauth/connections/vna", headers: apiKeyHeader).status == 404)
        #expect(try await tg.metric(#"tollgate_registry_revocations_total{token_type="refresh_token",result="failed"}"#) == 1)
        #expect(tg.logs.text.contains("token revocation failed") && !tg.logs.text.contains(token))
    }
}
