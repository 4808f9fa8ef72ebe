import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// Every kind of bad input gets a clear answer, and the service keeps serving afterwards.
@Suite("bad input")
struct BadInputTests {
    func expectStillServing(_ tg: RunningTollgate) async throws {
        #expect(try await tg.get("/health").status == 200)
    }

    @Test func malformedRequestsGet400WithAReason() async throws {
        try await withRunningTollgate { tg in
            let cases: [(String, String)] = [
                ("{not json", "request body is not valid JSON"),
                ("[1,2]", "request body must be a JSON object"),
                ("{}", "request must contain credentials or context"),
                (#"{"credentials":{"type":"bearer","token":42}}"#, "field credentials.token has the wrong type"),
                (#"{"credentials":{"token":"abc"}}"#, "field credentials.type is required"),
                (#"{"context":"GET /"}"#, "field context has the wrong type"),
            ]
            for (body, reason) in cases {
                let answer = try await tg.post("/plugin/authenticate", json: body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.json["success"] as? Bool == false)
                #expect(answer.json["error"] as? String == reason, "\(body)")
            }
            let binary = try await tg.post("/plugin/authenticate", body: [0xFF, 0xFE, 0x7B, 0x00, 0xC3], headers: [("Content-Type", "application/json")])
            #expect(binary.status == 400)
            try await expectStillServing(tg)
        }
    }

    @Test func emptyGarbageAndUnknownCredentialsAreRefused() async throws {
        try await withRunningTollgate { tg in
            let before = tg.introspections
            let empty = try await tg.post("/plugin/authenticate", json: #"{"credentials":{"type":"bearer","token":""}}"#)
            #expect(empty.status == 200)
            #expect(empty.refusal == "Missing token")
            let garbage = try await tg.authenticate("<script>alert(1)</script> ; DROP")
            #expect(garbage.refusal == "Malformed token")
            #expect(!garbage.body.contains("script"))
            let oversized = try await tg.authenticate(String(repeating: "a", count: 9000))
            #expect(oversized.refusal == "Token too large")
            #expect(tg.introspections == before)  // none of these reached the IdP
            let apiKey = try await tg.post("/plugin/authenticate", json: #"{"credentials":{"type":"api_key","token":"k"}}"#)
            #expect(apiKey.refusal == "Unsupported credential type")
            try await expectStillServing(tg)
        }
    }

    @Test func oversizedBodiesGet413() async throws {
        try await withRunningTollgate { tg in
            let megabyteToken = String(repeating: "A", count: 1 << 20)
            let answer = try await tg.authenticate(megabyteToken)
            #expect(answer.status == 413)
            #expect(answer.json["success"] as? Bool == false)
            #expect(!answer.body.contains("AAAA"))
            let justOver = try await tg.post(
                "/plugin/authenticate", json: #"{"credentials":{"type":"bearer","token":""# + String(repeating: "b", count: 65536) + #""}}"#)
            #expect(justOver.status == 413)
            try await expectStillServing(tg)
        }
    }

    @Test func misbehavingIdPsAreIndeterminateNot401() async throws {
        let idp = try await BrokenIdP.start()
        defer { Task { await idp.stop() } }
        let expected: [(BrokenIdP.Mode, IndeterminateReason)] = [
            (.html, .idpBadResponse), (.yes, .idpBadResponse), (.error, .idpUnavailable), (.unauthorized, .idpRejectedClient),
        ]
        for (mode, reason) in expected {
            let tg = try await RunningTollgate.start(waitReady: false) {
                $0.inbound.issuers = [brokenIssuer(idp, mode)]
            }
            try await tg.waitForNotReadyReason(containing: "introspection endpoint: \(reason.message)")
            let answer = try await tg.authenticate("opaque-token-123")
            #expect(answer.status == 503, "\(mode)")
            #expect(answer.json["success"] as? Bool == false)
            #expect(answer.json["error"] as? String == "authorization server unavailable")
            #expect(try await tg.get("/ready").status == 503)
            #expect(
                try await tg.metric(#"tollgate_decisions_total{result="indeterminate",reason="\#(reason.rawValue)",issuer="broken-\#(mode.rawValue)"}"#) == 1)
            try await expectStillServing(tg)
            await tg.stop()
        }
    }

    @Test func slowIdPTimesOut() async throws {
        let idp = try await BrokenIdP.start()
        defer { Task { await idp.stop() } }
        let tg = try await RunningTollgate.start(waitReady: false) {
            $0.inbound.issuers = [brokenIssuer(idp, .slow, timeoutMS: 200)]
        }
        defer { Task { await tg.stop() } }
        // Discovery succeeds; the introspection probe and the request both time out.
        try await tg.waitForNotReadyReason(containing: "introspection endpoint: authorization server timed out")
        let answer = try await tg.authenticate("opaque-token-slow")
        #expect(answer.status == 503)
        #expect(try await tg.metric(#"tollgate_decisions_total{result="indeterminate",reason="idp_timeout",issuer="broken-slow"}"#) == 1)
        try await expectStillServing(tg)
    }

    @Test func idpDownIsIndeterminateAndNotReady() async throws {
        let closedPort = try await freePort()
        let tg = try await RunningTollgate.start(waitReady: false) {
            var issuer = IssuerConfig(
                name: "down", issuer: "http://127.0.0.1:\(closedPort)/realm", discovery: false,
                introspection: IntrospectionConfig(
                    endpoint: "http://127.0.0.1:\(closedPort)/realm/introspect", clientID: "a", clientSecret: "b"))
            issuer.leewaySeconds = 0
            $0.inbound.issuers = [issuer]
        }
        defer { Task { await tg.stop() } }
        let answer = try await tg.authenticate("opaque-token-down")
        #expect(answer.status == 503)
        let ready = try await tg.get("/ready")
        #expect(ready.status == 503)
        #expect((ready.json["reasons"] as? [String])?.first?.contains("issuer down") == true)
        try await expectStillServing(tg)
    }
}

@Suite("embedded dev issuer")
struct DevIssuerTests {
    func form(_ tg: RunningTollgate, _ path: String, _ body: String, basic: String? = nil) async throws -> RunningTollgate.Answer {
        var headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if let basic { headers.append(("Authorization", "Basic " + Data(basic.utf8).base64EncodedString())) }
        return try await tg.post(path, body: Array(body.utf8), headers: headers)
    }

    @Test func discoveryAndJWKSDescribeTheIssuer() async throws {
        try await withRunningTollgate { tg in
            let doc = try await tg.get("/dev-issuer/.well-known/openid-configuration").json
            let issuer = tg.app.devIssuer!.issuerURL
            #expect(doc["issuer"] as? String == issuer)
            #expect(doc["token_endpoint"] as? String == issuer + "/token")
            #expect(doc["jwks_uri"] as? String == issuer + "/jwks")
            #expect(doc["introspection_endpoint"] as? String == issuer + "/introspect")
            #expect(doc["revocation_endpoint"] as? String == issuer + "/revoke")
            let keys = try await tg.get("/dev-issuer/jwks").json["keys"] as? [[String: Any]]
            #expect(keys?.count == 1)
            #expect(keys?.first?["kty"] as? String == "RSA")
            #expect(keys?.first?["alg"] as? String == "RS256")
            #expect(keys?.first?["d"] == nil)
        }
    }

    @Test func tokensAreRS256AtJWTsWithTheDocumentedClaims() async throws {
        try await withRunningTollgate { tg in
            let token = try await tg.token(scope: "read")
            let parts = token.split(separator: ".").map { part -> [String: Any] in
                var b64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                while b64.count % 4 != 0 { b64 += "=" }
                return (try? JSONSerialization.jsonObject(with: Data(base64Encoded: b64) ?? Data())) as? [String: Any] ?? [:]
            }
            #expect(parts[0]["alg"] as? String == "RS256")
            #expect(parts[0]["typ"] as? String == "at+jwt")
            #expect(parts[0]["kid"] as? String == tg.app.devIssuer!.activeKid)
            for claim in ["iss", "sub", "aud", "client_id", "scope", "iat", "nbf", "exp", "jti"] {
                #expect(parts[1][claim] != nil, "missing \(claim)")
            }
        }
    }

    @Test func tokenEndpointErrorsFollowRFC6749() async throws {
        try await withRunningTollgate { tg in
            let badSecret = try await form(tg, "/dev-issuer/token", "grant_type=client_credentials", basic: "tollgate-dev:wrong")
            #expect(badSecret.status == 401)
            #expect(badSecret.json["error"] as? String == "invalid_client")
            #expect(badSecret.header("WWW-Authenticate")?.hasPrefix("Basic") == true)
            let noAuth = try await form(tg, "/dev-issuer/token", "grant_type=client_credentials")
            #expect(noAuth.status == 401)
            let badScope = try await form(tg, "/dev-issuer/token", "grant_type=client_credentials&scope=admin", basic: "tollgate-dev:tollgate-dev-secret")
            #expect(badScope.status == 400)
            #expect(badScope.json["error"] as? String == "invalid_scope")
            let badGrant = try await form(tg, "/dev-issuer/token", "grant_type=password", basic: "tollgate-dev:tollgate-dev-secret")
            #expect(badGrant.json["error"] as? String == "unsupported_grant_type")
            let both = try await form(
                tg, "/dev-issuer/token", "grant_type=client_credentials&client_id=tollgate-dev&client_secret=tollgate-dev-secret",
                basic: "tollgate-dev:tollgate-dev-secret")
            #expect(both.json["error"] as? String == "invalid_request")
            let posted = try await form(tg, "/dev-issuer/token", "grant_type=client_credentials&client_id=reader&client_secret=reader+secret%26%3D%2B")
            #expect(posted.status == 200)
            #expect(posted.json["scope"] as? String == "read")
            #expect(posted.json["expires_in"] as? Int == 3600)
            #expect(posted.header("Cache-Control") == "no-store")
            #expect(!badSecret.body.contains("wrong"))
        }
    }

    @Test func introspectionRequiresClientAuthentication() async throws {
        try await withRunningTollgate { tg in
            let token = try await tg.token()
            let anonymous = try await form(tg, "/dev-issuer/introspect", "token=\(token)")
            #expect(anonymous.status == 401)
            let answer = try await form(tg, "/dev-issuer/introspect", "token=\(token)", basic: "reader:reader+secret%26%3D%2B")
            #expect(answer.json["active"] as? Bool == true)
            #expect(answer.json["client_id"] as? String == "tollgate-dev")
            let garbage = try await form(tg, "/dev-issuer/introspect", "token=abc", basic: "reader:reader+secret%26%3D%2B")
            #expect(garbage.body == #"{"active":false}"#)
        }
    }
}
