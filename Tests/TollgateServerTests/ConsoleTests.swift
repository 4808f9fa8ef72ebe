import Foundation
import Testing
@testable import TollgateServer
@testable import TollgateRegistry
import TollgateConfiguration
import TollgateKit

/// The console over loopback: sign-in through the test IdP (PKCE, nonce, ID token), the session
/// cookie, the 403 page, CSRF, expiry, escaping, and connections managed through the registry's
/// own code.
@Suite("web console")
struct ConsoleTests {
    static func start(_ idp: CodeFlowIdP, directory: String, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await ConnectionsAPITests.start(directory: directory, key: RegistryKeyring.generateKeyMaterial()) { config in
            config.registry.callbackBaseURL = "https://tollgate.example.org/"
            config.console.enabled = true
            config.console.baseURL = "http://127.0.0.1"
            config.console.oidc.issuer = idp.issuer
            config.console.oidc.clientID = CodeFlowIdP.clientID
            config.console.oidc.clientSecret = Secret(CodeFlowIdP.clientSecret)
            config.console.required = ConsoleRequirementConfig(roles: ["tollgate-admin"])
            config.console.required.rolesClaim = "realm_access.roles"
            adjust(&config)
        }
    }

    /// Signs in as the IdP's user; the session cookie (`name=value`) and the sign-in's last answer.
    static func signIn(
        _ tg: RunningTollgate, _ idp: CodeFlowIdP, returnTo: String = "/console"
    ) async throws -> (cookie: String?, answer: RunningTollgate.Answer) {
        let login = try await tg.get("/console/login?" + FormEncoding.encode([("return_to", returnTo)]))
        let url = try #require(login.header("Location"), "login: \(login.status) \(login.body)")
        let browser = try #require(login.header("Set-Cookie").map { String($0.prefix { $0 != ";" }) })
        let callback = try idp.approve(url)
        let answer = try await tg.get("/console/callback" + ConnectionFlowsTests.query(callback), headers: [("Cookie", browser)])
        let session = answer.headers.first { $0.0.lowercased() == "set-cookie" && $0.1.hasPrefix("tollgate-console=") }
        return (session.map { String($0.1.prefix { $0 != ";" }) }, answer)
    }

    /// The `csrf` value of the first form on a page.
    static func csrf(_ html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func form(_ tg: RunningTollgate, _ path: String, cookie: String, _ fields: [(String, String)]) async throws -> RunningTollgate.Answer {
        try await tg.post(
            path, body: Array(FormEncoding.encode(fields).utf8),
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)])
    }

    @Test func signInUsesPKCEAndANonceAndEveryPageIsLockedDown() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        idp.setIDTokenClaims(roles: ["tollgate-admin"], name: "Dr <b>House</b>")
        let tg = try await Self.start(idp, directory: scratchDirectory())
        defer { Task { await tg.stop() } }

        let first = try await tg.get("/console/orthanc")
        #expect(first.status == 303 && first.header("Location") == "/console/login?return_to=%2Fconsole%2Forthanc", "\(first.status)")
        let login = try await tg.get("/console/login?return_to=%2Fconsole%2Forthanc")
        let location = try #require(login.header("Location"))
        let query = (URLComponents(string: location)?.queryItems ?? []).reduce(into: [String: String]()) { $0[$1.name] = $1.value }
        #expect(login.status == 302 && location.hasPrefix(idp.base + "/authorize?"))
        #expect(query["code_challenge_method"] == "S256" && query["code_challenge"]?.count == 43 && query["nonce"]?.count == 43)
        #expect(query["redirect_uri"] == "http://127.0.0.1/console/callback" && query["scope"] == "openid profile")
        let signInCookie = try #require(login.header("Set-Cookie"))
        #expect(signInCookie.hasPrefix("tollgate-console-signin=") && signInCookie.contains("HttpOnly") && signInCookie.contains("Max-Age=600"))
        let browser = String(signInCookie.prefix { $0 != ";" })
        let callback = try idp.approve(location)
        // Login CSRF: the same code and state in another browser (no sign-in cookie, or another one) are refused.
        let planted = try await tg.get("/console/callback" + ConnectionFlowsTests.query(callback))
        #expect(planted.status == 400 && planted.body.contains("not started in this browser") && planted.header("Set-Cookie")?.contains("Max-Age=0") == true)
        let login2 = try await tg.get("/console/login")
        let callback2 = try idp.approve(try #require(login2.header("Location")))
        let elsewhere = try await tg.get("/console/callback" + ConnectionFlowsTests.query(callback2), headers: [("Cookie", browser)])
        #expect(elsewhere.status == 400, "a sign-in cookie of another sign-in")
        let login3 = try await tg.get("/console/login?return_to=%2Fconsole%2Forthanc")
        let browser3 = String(try #require(login3.header("Set-Cookie")).prefix { $0 != ";" })
        let callback3 = try idp.approve(try #require(login3.header("Location")))
        let landed = try await tg.get("/console/callback" + ConnectionFlowsTests.query(callback3), headers: [("Cookie", browser3)])
        let setCookie = try #require(landed.header("Set-Cookie"))
        #expect(landed.status == 303 && landed.header("Location") == "/console/orthanc")
        #expect(setCookie.hasPrefix("tollgate-console=") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"))
        #expect(!setCookie.contains("Secure"), "plain http on loopback: no Secure")
        let cookie = String(setCookie.prefix { $0 != ";" })
        #expect(
            try await tg.get("/console/callback" + ConnectionFlowsTests.query(callback3), headers: [("Cookie", browser3)]).status == 400, "a state works once")

        for (path, title) in [("/console", "Overview"), ("/console/orthanc", "Orthanc"), ("/console/connections", "Connections")] {
            let page = try await tg.get(path, headers: [("Cookie", cookie)])
            #expect(page.status == 200 && page.body.contains("<h1>\(title)</h1>"), "\(path): \(page.status)")
            let policy = page.header("Content-Security-Policy") ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "\(policy)")
            #expect(page.header("X-Frame-Options") == "DENY" && page.header("Referrer-Policy") == "no-referrer")
            #expect(page.header("Cache-Control") == "no-store" && !page.body.contains("<script"))
            #expect(page.body.contains("Dr &lt;b&gt;House&lt;/b&gt;"), "the IdP's name is escaped")
            #expect(page.body.contains(#"<a href="\#(path)" aria-current="page">"#), "the navigation marks the page")
        }
        let css = try await tg.get("/console/static/console.css")
        #expect(css.status == 200 && css.header("Content-Type")?.hasPrefix("text/css") == true)
        #expect(!tg.logs.text.contains(callback3["code"] ?? "?"), "the code is never logged")
    }

    @Test func aPersonWithoutTheRequiredRoleIsToldWhyAndGetsNoSession() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        idp.setIDTokenClaims(roles: ["radiologist"], name: "Dr Wilson")
        let tg = try await Self.start(idp, directory: scratchDirectory())
        defer { Task { await tg.stop() } }
        let (cookie, answer) = try await Self.signIn(tg, idp)
        #expect(answer.status == 403 && cookie == nil)
        #expect(answer.body.contains("The console needs the role tollgate-admin (claim realm_access.roles)"), "\(answer.body)")
        #expect(!answer.body.contains("radiologist"), "the page says what is required, not what the token held")
        idp.setIDTokenFault(.wrongNonce)
        idp.setIDTokenClaims(roles: ["tollgate-admin"], name: nil)
        let spoiled = try await Self.signIn(tg, idp)
        #expect(spoiled.answer.status == 400 && spoiled.cookie == nil && spoiled.answer.body.contains("nonce"))
    }

    @Test func formsNeedTheSessionsCSRFTokenAndSessionsExpire() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        idp.setIDTokenClaims(roles: ["tollgate-admin"], name: nil)
        let tg = try await Self.start(idp, directory: scratchDirectory())
        defer { Task { await tg.stop() } }
        let cookie = try #require(try await Self.signIn(tg, idp).cookie)
        let fields = [
            ("oauth_flow_type", "client_credentials"), ("organization", "GLOBAL"), ("connection_name", "csrf-probe"), ("client_id", "tollgate-dev"),
            ("client_secret", "tollgate-dev-secret"), ("token_url", tg.base + "/dev-issuer/token"),
        ]
        let without = try await Self.form(tg, "/console/connections", cookie: cookie, fields)
        let foreign = try await Self.form(tg, "/console/connections", cookie: cookie, fields + [("csrf", ConsoleSessions.randomToken())])
        #expect(without.status == 403 && foreign.status == 403 && without.body.contains("CSRF"))
        #expect(try await tg.get("/oauth/connections/csrf-probe", headers: apiKeyHeader).status == 404, "nothing was created")
        let noSession = try await Self.form(tg, "/console/connections", cookie: "tollgate-console=" + ConsoleSessions.randomToken(), fields)
        #expect(noSession.status == 401)

        // The IdP's ID tokens live by the real clock: every session is made before Tollgate's clock moves.
        let idle = cookie
        let busy = try #require(try await Self.signIn(tg, idp).cookie)
        let leaving = try #require(try await Self.signIn(tg, idp).cookie)

        // Signing out ends the session at once.
        let page = try await tg.get("/console", headers: [("Cookie", leaving)])
        let token = try #require(Self.csrf(page.body))
        let out = try await Self.form(tg, "/console/logout", cookie: leaving, [("csrf", token)])
        #expect(out.status == 200 && out.body.contains("Signed out") && out.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try await tg.get("/console", headers: [("Cookie", leaving)]).status == 303)

        // Idle for longer than idle_timeout_seconds (30 min by default): signed out; a session in use is not.
        tg.clock.advance(by: 1790)
        #expect(try await tg.get("/console/orthanc", headers: [("Cookie", busy)]).status == 200)
        // Last-seen is written back at most once a minute, so the next touch is more than a minute on.
        tg.clock.advance(by: 70)
        #expect(try await tg.get("/console/orthanc", headers: [("Cookie", busy)]).status == 200)
        let expired = try await tg.get("/console", headers: [("Cookie", idle)])
        #expect(expired.status == 401 && expired.body.contains("Session expired") && expired.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try await tg.get("/console", headers: [("Cookie", idle)]).status == 303, "gone for good")

        // In use all along, but past absolute_timeout_seconds (8 h): signed out too.
        for round in 1...15 {
            tg.clock.advance(by: 1790)
            #expect(try await tg.get("/console/orthanc", headers: [("Cookie", busy)]).status == 200, "round \(round)")
        }
        tg.clock.advance(by: 1790)
        #expect(try await tg.get("/console", headers: [("Cookie", busy)]).status == 401, "8 h 28 min after signing in")
    }

    @Test func connectionsAreCreatedEditedTestedAndDeletedThroughTheRegistrysOwnCode() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        idp.setIDTokenClaims(roles: ["tollgate-admin"], name: "Dr House")
        let directory = scratchDirectory()
        let auditPath = directory + "/audit.jsonl"
        let tg = try await Self.start(idp, directory: directory) { config in
            config.audit.enabled = true
            config.audit.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: auditPath))
        }
        defer { Task { await tg.stop() } }
        let cookie = try #require(try await Self.signIn(tg, idp).cookie)
        let csrf = try #require(Self.csrf(try await tg.get("/console/connections", headers: [("Cookie", cookie)]).body))

        // The API's own validation and words: a bad token URL is refused as the API refuses it.
        let bad = try await Self.form(
            tg, "/console/connections", cookie: cookie,
            [
                ("csrf", csrf), ("oauth_flow_type", "client_credentials"), ("organization", "radiology"), ("connection_name", "pacs"),
                ("client_id", "tollgate-dev"), ("client_secret", "tollgate-dev-secret"), ("token_url", "not a url"),
            ])
        let apiWords = try await tg.post(
            "/oauth/connections",
            json: #"{"connection_name":"pacs","oauth_flow_type":"client_credentials","client_id":"tollgate-dev","client_secret":"x","token_url":"not a url"}"#,
            headers: apiKeyHeader)
        let message = try #require(apiWords.json["message"] as? String)
        #expect(bad.status == 400 && bad.body.contains(Self.escaped(message)), "\(message)")
        #expect(bad.body.contains(#"value="pacs""#) && !bad.body.contains("tollgate-dev-secret"), "entered values come back, secrets never")

        let created = try await Self.form(
            tg, "/console/connections", cookie: cookie,
            [
                ("csrf", csrf), ("oauth_flow_type", "client_credentials"), ("organization", "radiology"), ("connection_name", "pacs"),
                ("name", "<img src=x onerror=alert(1)>"), ("client_id", "tollgate-dev"), ("client_secret", "tollgate-dev-secret"),
                ("token_url", tg.base + "/dev-issuer/token"), ("scopes", "read"),
            ])
        #expect(created.status == 200 && created.body.contains("pacs was created"), "\(created.status)")
        #expect(created.body.contains("console:dr-house") && created.body.contains("<dd>set</dd>"), "created by the person; the secret is only 'set'")
        #expect(!created.body.contains("<img src=x") && created.body.contains("&lt;img src=x onerror=alert(1)&gt;"), "hostile names are escaped")
        let api = try await tg.get("/oauth/connections/pacs", headers: apiKeyHeader + [("X-Organization-Id", "radiology")])
        #expect(api.status == 200 && api.json["created_by"] as? String == "console:dr-house")
        let list = try await tg.get("/console/connections?organization=radiology", headers: [("Cookie", cookie)])
        #expect(list.body.contains(#"<a href="/console/connections/pacs?organization=radiology">pacs</a>"#))

        let tested = try await Self.form(tg, "/console/connections/pacs/test?organization=radiology", cookie: cookie, [("csrf", csrf)])
        #expect(tested.status == 200 && tested.body.contains("Test passed"), "\(tested.body)")
        #expect(!tested.body.contains("eyJ"), "no token is ever shown")

        // Optimistic concurrency: a form for generation 1 after the test moved the row on.
        let stale = try await Self.form(
            tg, "/console/connections/pacs?organization=radiology", cookie: cookie, [("csrf", csrf), ("generation", "1"), ("scopes", "read write")])
        #expect(stale.status == 412 && stale.body.contains("someone changed this connection"), "\(stale.status)")
        let current = try await tg.get("/console/connections/pacs?organization=radiology", headers: [("Cookie", cookie)])
        let generation = try #require(
            current.body.range(of: #"name="generation" value=""#).map { String(current.body[$0.upperBound...].prefix { $0 != "\"" }) })
        let saved = try await Self.form(
            tg, "/console/connections/pacs?organization=radiology", cookie: cookie, [("csrf", csrf), ("generation", generation), ("description", "VNA reads")])
        #expect(saved.status == 200 && saved.body.contains("Changes saved"), "\(saved.status)")

        let dependency = try await tg.post(
            "/oauth/connections/pacs/dependencies", json: #"{"dependent_id":"wf-1","dependent_name":"nightly export"}"#,
            headers: apiKeyHeader + [("X-Organization-Id", "radiology")])
        #expect(dependency.status == 201)
        let confirm = try await tg.get("/console/connections/pacs/delete?organization=radiology", headers: [("Cookie", cookie)])
        #expect(confirm.body.contains("nightly export") && confirm.body.contains("wf-1"), "dependents are shown first")
        let refused = try await Self.form(tg, "/console/connections/pacs/delete?organization=radiology", cookie: cookie, [("csrf", csrf)])
        #expect(refused.status == 409 && refused.body.contains("Not deleted"))
        _ = try await tg.send(
            "/oauth/connections/pacs/dependencies/wf-1", method: .DELETE, headers: apiKeyHeader + [("X-Organization-Id", "radiology")], body: nil)
        let deleted = try await Self.form(tg, "/console/connections/pacs/delete?organization=radiology", cookie: cookie, [("csrf", csrf)])
        #expect(deleted.status == 200 && deleted.body.contains("pacs was deleted"))
        #expect(try await tg.get("/oauth/connections/pacs", headers: apiKeyHeader + [("X-Organization-Id", "radiology")]).status == 404)

        // The audit trail has each act under the person's identity, and never a secret.
        try await waitUntil { try AuditServerTests.records(auditPath).contains { $0["action"] as? String == "registry.delete" } }
        let records = try AuditServerTests.records(auditPath)
        let byConsole = records.filter { ($0["who"] as? [String: Any])?["admin"] as? String == "console:dr-house" }
        let actions = Set(byConsole.compactMap { $0["action"] as? String })
        #expect(actions.isSuperset(of: ["console.sign_in", "registry.create", "registry.test", "registry.update", "registry.delete"]), "\(actions)")
        #expect(!(try String(contentsOfFile: auditPath, encoding: .utf8)).contains("tollgate-dev-secret"))
    }

    @Test func connectRunsTheCodeFlowAndComesBackToTheConsole() async throws {
        let idp = try await CodeFlowIdP.start()
        defer { Task { await idp.stop() } }
        idp.setIDTokenClaims(roles: ["tollgate-admin"], name: nil)
        let tg = try await Self.start(idp, directory: scratchDirectory()) { $0.console.session.store = .registry }
        defer { Task { await tg.stop() } }
        let cookie = try #require(try await Self.signIn(tg, idp).cookie)
        // Kept in the registry's store (replicas on PostgreSQL share it), by the cookie's SHA-256 only.
        let value = String(cookie.drop { $0 != "=" }.dropFirst())
        let stored = try await tg.app.registry?.store.document(key: ConsoleSessions.sessionPrefix + SecretDigest.sha256Hex(value))
        let session = try #require(stored.flatMap { String(data: $0, encoding: .utf8) })
        #expect(session.contains("dr-house") && !session.contains(value), "\(session)")
        #expect(try await tg.post("/oauth/connections", json: ConnectionFlowsTests.codeBody(idp), headers: apiKeyHeader).status == 201)
        let page = try await tg.get("/console/connections/vna", headers: [("Cookie", cookie)])
        let csrf = try #require(Self.csrf(page.body))
        #expect(page.header("Content-Security-Policy")?.contains("form-action 'self' \(idp.base)") == true, "Connect may lead to the IdP")
        let connect = try await Self.form(tg, "/console/connections/vna/connect", cookie: cookie, [("csrf", csrf)])
        let url = try #require(connect.header("Location"))
        #expect(connect.status == 303 && url.hasPrefix(idp.base + "/authorize"))
        let back = try await tg.get("/oauth/callback/vna" + ConnectionFlowsTests.query(try idp.approve(url)), headers: [("Accept", "text/html")])
        #expect(back.status == 200 && back.body.contains(#"href="/console/connections/vna?organization=GLOBAL""#))
        let list = try await tg.get("/console/connections", headers: [("Cookie", cookie)])
        #expect(list.body.contains("status-completed"), "the list shows the connection completed")
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
