import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// Seed 002's client, driven with the seed's own request bodies and field names exactly as the
/// seed writes them (its quickstart's contract test, its Postman calls, its workflow example), on
/// the seed's `/api/oauth` paths. Tollgate adds one thing the seed leaves out: the admin API key.
@Suite("seed 002's contract")
struct SeedContractTests {
    typealias C = ConnectionsAPITests

    /// `tests/contract/test_oauth_api.py`: `json.dumps({...})` of the seed's dict.
    static let contractTestBody =
        #"{"connection_name": "test_api", "oauth_flow_type": "client_credentials", "client_id": "test", "client_secret": "secret123", "authorization_url": "https://test.com/auth", "token_url": "https://test.com/token", "scopes": "read,write"}"#

    /// "Manual Testing with Postman", Create connection.
    static let postmanBody = """
        {
          "connection_name": "azure_csp_oauth",
          "oauth_flow_type": "client_credentials",
          "client_id": "your_client_id",
          "client_secret": "your_client_secret",
          "authorization_url": "https://login.microsoftonline.com/.../oauth2/v2.0/authorize",
          "token_url": "https://login.microsoftonline.com/.../oauth2/v2.0/token",
          "scopes": "https://graph.microsoft.com/.default"
        }
        """

    @Test func theSeedsClientCreatesReadsAuthorizesAndGetsCredentials() async throws {
        let tg = try await C.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }

        // The quickstart's contract test: 201, the name back, status not_connected; created_by from X-User-Id.
        let created = try await tg.post(
            "/api/oauth/connections", json: Self.contractTestBody,
            headers: apiKeyHeader + [("X-Organization-Id", "ORG123"), ("X-User-Id", "jack\t@example.org")])
        #expect(created.status == 201, "\(created.body)")
        #expect(created.json["connection_name"] as? String == "test_api" && created.json["status"] as? String == "not_connected")
        #expect(created.json["created_by"] as? String == "jack@example.org", "sanitised: the control character is gone")
        #expect(created.json["org_id"] as? String == "ORG123" && created.json["oauth_flow_type"] as? String == "client_credentials")
        for member in ["status_message", "expires_at", "last_refresh_at", "last_test_at", "created_at", "updated_at", "redirect_uri", "description"] {
            #expect(created.json.keys.contains(member), "\(member)")
        }
        #expect(!created.body.contains("secret123"))
        // The same connection on today's prefix.
        #expect(try await tg.get("/oauth/connections/test_api", headers: apiKeyHeader + [("X-Organization-Id", "ORG123")]).status == 200)

        // Postman: create at GLOBAL, authorize (client credentials: nothing to authorize, 400).
        let global = apiKeyHeader + [("X-Organization-Id", "GLOBAL")]
        let postman = try await tg.post("/api/oauth/connections", json: Self.postmanBody, headers: global)
        #expect(postman.status == 201 && postman.json["created_by"] as? String == "admin.api_keys[0]", "\(postman.body)")
        let authorize = try await tg.post("/api/oauth/connections/azure_csp_oauth/authorize", json: "", headers: global)
        #expect(authorize.status == 400 && authorize.json["error"] as? String == "UNSUPPORTED_FLOW")

        // The seed's UpdateOAuthConnectionRequest fields, without If-Match (last writer wins, new ETag).
        // A new token_url without the secret is refused: the stored one never goes somewhere new.
        let devToken = "\(tg.base)/dev-issuer/token"
        let moved = try await tg.put("/api/oauth/connections/azure_csp_oauth", json: #"{"token_url": "\#(devToken)"}"#, headers: global)
        #expect(moved.status == 400 && moved.json["error"] as? String == "SECRET_REQUIRED")
        let updated = try await tg.put(
            "/api/oauth/connections/azure_csp_oauth",
            json: #"{"client_id": "tollgate-dev", "client_secret": "tollgate-dev-secret", "token_url": "\#(devToken)", "scopes": "read"}"#,
            headers: global)
        #expect(updated.status == 200 && updated.header("ETag") == "\"2\"", "\(updated.body)")

        // Get credentials: the seed's shape (credentials object and status) beside today's flat members.
        let credentials = try await tg.get("/api/oauth/credentials/azure_csp_oauth", headers: global)
        #expect(credentials.status == 200 && credentials.json["connection_name"] as? String == "azure_csp_oauth")
        #expect(credentials.json["status"] as? String == "completed")
        let inner = try #require(credentials.json["credentials"] as? [String: Any])
        #expect(inner["token_type"] as? String == "Bearer" && inner["scopes"] as? String == "read" && inner["expires_at"] is String)
        #expect(inner["refresh_token"] == nil && credentials.json["access_token"] as? String == inner["access_token"] as? String)
        // The workflow example: headers = {"Authorization": f"{credentials.token_type} {credentials.access_token}"}.
        let authorization = "\(inner["token_type"] as? String ?? "") \(inner["access_token"] as? String ?? "")"
        #expect(try await tg.get("/auth", headers: [("Authorization", authorization)]).status == 200, "the token works where a workflow sends it")

        // Test: test_result, tested_at; the connection keeps last_test_at.
        let tested = try await tg.post("/api/oauth/connections/azure_csp_oauth/test", json: "", headers: global)
        #expect(tested.status == 200 && tested.json["test_result"] as? String == "success")
        let detail = try await tg.get("/api/oauth/connections/azure_csp_oauth", headers: global)
        #expect(detail.json["last_test_at"] as? String == tested.json["tested_at"] as? String && detail.json["status"] as? String == "completed")

        // Register Dependency: register_oauth_dependency(workflow_id="my_workflow", connection_name="azure_csp_oauth",
        // workflow_name="My Workflow"), on the seed contract's /workflows route.
        let registered = try await tg.post(
            "/api/oauth/workflows/my_workflow/dependencies",
            json: #"{"connection_name": "azure_csp_oauth", "workflow_name": "My Workflow"}"#, headers: global)
        #expect(registered.status == 201 && registered.json["workflow_name"] as? String == "My Workflow", "\(registered.body)")
        let uses = try await tg.get("/api/oauth/workflows/my_workflow/dependencies", headers: global)
        #expect(uses.json["workflow_id"] as? String == "my_workflow" && uses.json["connections"] as? [String] == ["azure_csp_oauth"])
        let listedToday = try await tg.get("/oauth/connections/azure_csp_oauth/dependencies", headers: apiKeyHeader)
        #expect((listedToday.json["dependencies"] as? [[String: Any]])?.first?["dependent_name"] as? String == "My Workflow")
        #expect(try await tg.send("/api/oauth/connections/azure_csp_oauth", method: .DELETE, headers: global, body: nil).status == 409)

        // List for ORG123: its own and GLOBAL's, with count; include_global=false leaves GLOBAL's out.
        let listed = try await tg.get("/api/oauth/connections", headers: apiKeyHeader + [("X-Organization-Id", "ORG123")])
        let names = (listed.json["connections"] as? [[String: Any]])?.compactMap { $0["connection_name"] as? String }
        #expect(names == ["azure_csp_oauth", "test_api"] && listed.json["count"] as? Int == 2)
        let own = try await tg.get("/api/oauth/connections?include_global=false", headers: apiKeyHeader + [("X-Organization-Id", "ORG123")])
        #expect(own.json["count"] as? Int == 1)
    }

    @Test func noUsableTokenIs503WithTheStatus() async throws {
        let tg = try await C.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial())
        defer { Task { await tg.stop() } }
        let body =
            #"{"connection_name": "archive", "oauth_flow_type": "refresh_token", "client_id": "tollgate-dev", "client_secret": "tollgate-dev-secret", "authorization_url": "https://test.com/auth", "token_url": "\#(tg.base)/dev-issuer/token", "scopes": "read"}"#
        #expect(try await tg.post("/api/oauth/connections", json: body, headers: apiKeyHeader).status == 201)
        let answer = try await tg.get("/api/oauth/credentials/archive", headers: apiKeyHeader)
        #expect(answer.status == 503 && answer.json["error"] as? String == "NOT_CONNECTED" && answer.json["status"] as? String == "not_connected")
        #expect(answer.json.keys.contains("status_message") && answer.header("Retry-After") == nil, "retrying will not help: it needs a refresh token")
        // A test that cannot start leaves the status as it was, not `testing` or `failed`.
        _ = try await tg.post("/api/oauth/connections/archive/test", json: "", headers: apiKeyHeader)
        #expect(try await tg.get("/api/oauth/connections/archive", headers: apiKeyHeader).json["status"] as? String == "not_connected")
    }

    @Test func theConnectionIsTestingWhileTheIdPIsAskedAndRefreshTokensStayInsideUnlessExposed() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        for expose in [false, true] {
            let tg = try await C.start(directory: scratchDirectory(), key: RegistryKeyring.generateKeyMaterial()) { $0.registry.exposeRefreshTokens = expose }
            defer { Task { await tg.stop() } }
            let refreshToken = idp.mintRefreshToken()
            #expect(
                try await tg.post(
                    "/api/oauth/connections", json: ConnectionFlowsTests.refreshBody(idp, refreshToken: refreshToken),
                    headers: apiKeyHeader
                ).status == 201)
            idp.setRefreshDelay(milliseconds: 1500)
            async let test = tg.post("/api/oauth/connections/archive/test", json: "", headers: apiKeyHeader)
            try await waitUntil { (try? await tg.get("/api/oauth/connections/archive", headers: apiKeyHeader).json["status"] as? String) == "testing" }
            #expect(try await test.status == 200)
            idp.setRefreshDelay(milliseconds: 0)
            let credentials = try await tg.get("/api/oauth/credentials/archive", headers: apiKeyHeader)
            let live = idp.liveRefreshTokens
            let inner = credentials.json["credentials"] as? [String: Any]
            if expose {
                #expect(live.contains(inner?["refresh_token"] as? String ?? "-"), "registry.expose_refresh_tokens: true hands it out as the seed does")
            } else {
                #expect(inner?["refresh_token"] == nil && !live.contains { credentials.body.contains($0) })
            }
        }
    }
}
