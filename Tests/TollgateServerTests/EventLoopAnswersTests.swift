import Foundation
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// `server.event_loop_answers`: two Tollgates with one config but this key, deciding the same
/// tokens (the second asks the first's dev issuer), get the same corpus of forward-auth requests,
/// one connection each and all pipelined on one; every byte of every answer, every access line,
/// audit record, metric and span must be the same. Only `Date` and the timings differ.
@Suite("event-loop answers")
struct EventLoopAnswersTests {
    struct Instance {
        let tollgate: RunningTollgate
        let audit: String
        let spans: OTLPReceiver

        var port: Int { tollgate.app.config.server.port }

        func stop() async {
            await tollgate.stop()
            await spans.stop()
        }
    }

    static func configure(_ config: inout TollgateConfig, audit: String, spans: OTLPReceiver, eventLoop: Bool) {
        config.server.eventLoopAnswers = eventLoop
        config.server.maxBodyBytes = 1024
        config.audit.enabled = true
        config.audit.sinks = AuditSinksConfig(file: AuditFileSinkConfig(path: audit))
        TracingTests.exportSpans(&config, to: spans)
        config.forwardAuth.rules = [
            ForwardAuthRulesTests.rule("^/public/") {
                $0.allowAnonymous = true
                $0.name = "public"
            },
            ForwardAuthRulesTests.rule("^/dicom-web/", methods: ["GET", "HEAD"], scopes: ["read"]) { $0.name = "dicom-read" },
            ForwardAuthRulesTests.rule("^/dicom-web/", scopes: ["write"]) { $0.name = "dicom-write" },
        ]
        config.forwardAuth.default = .deny
        config.orthanc.webserviceUsername = "orthanc"
        config.orthanc.webservicePassword = Secret("ws-secret")
        config.orthanc.permissions = OrthancPermissionsConfig(
            roleClaims: ["scope"],
            roles: [
                "read": OrthancRole(permissions: ["view"], authorizedLabels: ["public"]),
                "write": OrthancRole(permissions: ["view", "upload", "delete"], authorizedLabels: ["*"]),
            ])
        config.orthanc.shareTokens.key = Secret(String(repeating: "share-key-", count: 4))
    }

    static func start(
        eventLoop: Bool, clock: ManualClock = ManualClock(), issuer: RunningTollgate? = nil, directory: String = scratchDirectory(),
        _ adjust: (inout TollgateConfig) -> Void = { _ in }
    ) async throws -> Instance {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let audit = directory + (eventLoop ? "/event-loop.jsonl" : "/router.jsonl")
        let spans = try await OTLPReceiver.start()
        let tollgate = try await RunningTollgate.start(clock: clock) { config in
            configure(&config, audit: audit, spans: spans, eventLoop: eventLoop)
            adjust(&config)
            if let issuer {
                // The same issuer name, deciding through the other instance's dev issuer.
                config.devIssuer.enabled = false
                config.inbound.issuers = [
                    IssuerConfig(
                        name: "dev", issuer: issuer.app.config.devIssuerURL,
                        introspection: IntrospectionConfig(clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret"))
                ]
            }
        }
        return Instance(tollgate: tollgate, audit: audit, spans: spans)
    }

    /// One Tollgate with the event-loop answers on, stopped after `body` whatever it does.
    static func withEventLoopInstance(
        _ adjust: (inout TollgateConfig) -> Void = { _ in }, _ body: (Instance) async throws -> Void
    ) async throws {
        let instance = try await start(eventLoop: true, adjust)
        do {
            try await body(instance)
            await instance.stop()
        } catch {
            await instance.stop()
            throw error
        }
    }

    /// Each request of the corpus, as raw HTTP/1.1, with the id it is told apart by.
    static func corpus(reader: String, writer: String) -> [(id: String, raw: String)] {
        func request(_ id: String, _ line: String, _ headers: [String], requestID: Bool = true) -> (String, String) {
            let fields = ["Host: tollgate.test"] + (requestID ? ["X-Request-Id: \(id)"] : []) + headers
            return (id, line + "\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n")
        }
        let get = "GET /auth HTTP/1.1"
        return [
            request("valid", get, ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/studies"]),
            request("wrong-scope", get, ["Authorization: Bearer \(reader)", "X-Original-Method: POST", "X-Original-URI: /dicom-web/studies"]),
            request("write", get, ["Authorization: Bearer \(writer)", "X-Forwarded-Method: DELETE", "X-Forwarded-Uri: /dicom-web/studies/1"]),
            request("inactive", get, ["Authorization: Bearer not-a-real-token", "X-Original-Method: GET", "X-Original-URI: /dicom-web/studies"]),
            request("missing", get, ["X-Original-Method: GET", "X-Original-URI: /dicom-web/studies"]),
            request("empty-bearer", get, ["Authorization: Bearer", "X-Original-Method: GET", "X-Original-URI: /dicom-web/studies"]),
            request("basic", get, ["Authorization: Basic dXNlcjpwYXNz", "X-Original-Method: GET", "X-Original-URI: /dicom-web/studies"]),
            request(
                "two-headers", get,
                ["Authorization: Bearer \(reader)", "Authorization: Bearer \(writer)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request("bad-chars", get, ["Authorization: Bearer a\u{7F}b", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request("anonymous", get, ["X-Original-Method: GET", "X-Original-URI: /public/logo.png"]),
            request("no-rule", get, ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /admin"]),
            request("ambiguous", get, ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/%2e%2e/admin"]),
            request(
                "conflicting", get, ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/a", "X-Forwarded-Uri: /admin"]),
            request("unknown-request", get, ["Authorization: Bearer \(reader)"]),
            request(
                "constraint", "GET /auth?scope=write HTTP/1.1", ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request(
                "bad-constraint", "GET /auth?bogus=1 HTTP/1.1", ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request(
                "required-scopes", get,
                ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x", "X-Required-Scopes: write"]),
            request("envoy", "GET /auth/dicom-web/studies?limit=1 HTTP/1.1", ["Authorization: Bearer \(reader)"]),
            request("envoy-post", "POST /auth/dicom-web/studies HTTP/1.1", ["Authorization: Bearer \(reader)", "Content-Length: 0"]),
            request("slashes", "GET /auth//dicom-web//x HTTP/1.1", ["Authorization: Bearer \(reader)"]),
            request("trailing", "GET /auth/ HTTP/1.1", ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request("head", "HEAD /auth HTTP/1.1", ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request("options", "OPTIONS /auth HTTP/1.1", ["Authorization: Bearer \(writer)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request(
                "traced", get,
                ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x", "traceparent: \(TracingTests.traceparent)"]),
            request("no-id", get, ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"], requestID: false),
            request("outbound", "GET /auth/outbound/none HTTP/1.1", ["Authorization: Bearer \(reader)"]),
            request("dpop", get, ["Authorization: DPoP \(reader)", "DPoP: x.y.z", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x"]),
            request(
                "with-body", "POST /auth HTTP/1.1",
                ["Authorization: Bearer \(reader)", "X-Original-Method: GET", "X-Original-URI: /dicom-web/x", "Content-Length: 2"]),
        ].map { id, raw in (id, id == "with-body" ? raw + "{}" : raw) } + pluginCorpus(reader: reader)
    }

    static let orthancCredentials = "Authorization: Basic " + Data("orthanc:ws-secret".utf8).base64EncodedString()

    /// Orthanc's web-service questions: the plugin's validate and get-profile, the 1.10 filter's authorize.
    static func orthancCorpus(reader: String, writer: String, share: String) -> [(id: String, raw: String)] {
        func ask(_ id: String, _ path: String, _ body: String, credentials: String? = orthancCredentials) -> (String, String) {
            let fields =
                ["Host: tollgate.test", "X-Request-Id: \(id)", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"]
                + (credentials.map { [$0] } ?? [])
            return (id, "POST \(path) HTTP/1.1\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n" + body)
        }
        func validate(_ id: String, token: String, level: String = "study", uid: String = "1.2.3", key: String = "token") -> (String, String) {
            ask(
                id, "/tokens/validate",
                #"{"dicom-uid":"\#(uid)","orthanc-id":"\#(studyID)","level":"\#(level)","method":"get","uri":"/dicom-web/studies/\#(uid)","#
                    + #""token-key":"\#(key)","token-value":"\#(token)","server-id":null}"#)
        }
        func profile(_ id: String, _ members: String) -> (String, String) { ask(id, "/user/get-profile", members) }
        func authorize(_ id: String, _ method: String, _ uri: String, tokens: [String], labels: String = "null") -> (String, String) {
            let list = tokens.map { #""\#($0)""# }.joined(separator: ",")
            return ask(id, "/orthanc/authorize", #"{"method":"\#(method)","uri":"\#(uri)","get":{},"tokens":[\#(list)],"labels":\#(labels)}"#)
        }
        return [
            validate("validate-share", token: share),
            validate("validate-share-bearer", token: "Bearer " + share, key: "authorization"),
            validate("validate-other-study", token: share, uid: "1.2.4"),
            validate("validate-system", token: share, level: "system"),
            validate("validate-bad-level", token: share, level: "galaxy"),
            validate("validate-forged", token: "e30.e30.x"),
            validate("validate-user-token", token: reader),
            ask("validate-no-credentials", "/tokens/validate", "{}", credentials: nil),
            ask("validate-wrong-credentials", "/tokens/validate", "{}", credentials: "Authorization: Basic b3J0aGFuYzpubw=="),
            ask("validate-bad-json", "/tokens/validate", "{"),
            profile("profile-reader", #"{"token-key":"authorization","token-value":"Bearer \#(reader)"}"#),
            profile("profile-writer", #"{"token-key":"token","token-value":"\#(writer)"}"#),
            profile("profile-inactive", #"{"token-key":"authorization","token-value":"Bearer not-a-token"}"#),
            profile("profile-anonymous", "{}"),
            profile("profile-user-id", #"{"user-id":"reader"}"#),
            authorize("authorize-reader", "get", "/dicom-web/studies", tokens: ["Bearer " + reader]),
            authorize("authorize-reader-write", "post", "/dicom-web/studies", tokens: ["Bearer " + reader]),
            authorize("authorize-labels", "get", "/studies/\(studyID)", tokens: ["Bearer " + reader], labels: #"["secret"]"#),
            authorize("authorize-writer", "delete", "/studies/\(studyID)", tokens: [writer]),
            authorize("authorize-both", "get", "/studies/\(studyID)", tokens: [share, "Bearer not-a-token"]),
            // The first token's share-token reading is not settled (it was never one): the router's.
            authorize("authorize-unknown-then-share", "get", "/studies/\(studyID)", tokens: ["Bearer not-a-token", share]),
            authorize("authorize-share", "get", "/dicom-web/studies/1.2.3/series", tokens: [share]),
            authorize("authorize-anonymous", "get", "/dicom-web/studies", tokens: []),
            authorize("authorize-relative", "get", "dicom-web", tokens: []),
            ask("authorize-wrong-credentials", "/orthanc/authorize", "{}", credentials: "Authorization: Basic b3J0aGFuYzpubw=="),
        ]
    }

    static let studyID = "27f7126f-4f66f02b-a3a3b7d9-3c5ae4a4-2b8f1a2e"

    /// A share token for study 1.2.3, made by `instance`.
    static func shareToken(_ instance: Instance) async throws -> String {
        let body =
            #"{"id":null,"server-id":null,"type":"viewer-instant-link","expiration-date":null,"validity-duration":3600,"#
            + #""resources":[{"dicom-uid":"1.2.3","orthanc-id":"\#(studyID)","level":"study","url":null}]}"#
        let raw =
            "PUT /tokens/viewer-instant-link HTTP/1.1\r\nHost: t\r\n\(orthancCredentials)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        let answer = try await exchange(raw, port: instance.port)
        let json = try #require(answer.range(of: "\r\n\r\n").map { answer[$0.upperBound...] })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try #require(object["token"] as? String)
    }

    /// MockForge's `POST /plugin/authenticate`, in both shapes, with and without a settled token.
    static func pluginCorpus(reader: String) -> [(id: String, raw: String)] {
        func plugin(_ id: String, _ body: String, path: String = "/plugin/authenticate", extra: [String] = []) -> (String, String) {
            let fields = ["Host: tollgate.test", "X-Request-Id: \(id)", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"] + extra
            return (id, "POST \(path) HTTP/1.1\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n" + body)
        }
        let shapeB =
            #"{"context":{"plugin_id":"auth","version":{"major":1,"minor":0,"patch":0},"timeout_ms":5000,"request_id":"r1"},"method":"GET","uri":"/api","query_params":"#
        return [
            plugin("plugin-valid", #"{"context":{"method":"GET","uri":"/api/users?x=1","headers":{}},"credentials":{"type":"bearer","token":"\#(reader)"}}"#),
            plugin("plugin-header", #"{"context":{"method":"GET","uri":"/","headers":{"AUTHORIZATION":"bearer \#(reader)"}}}"#),
            plugin("plugin-inactive", #"{"context":{"method":"GET","uri":"/","headers":{}},"credentials":{"type":"bearer","token":"not-a-token"}}"#),
            plugin("plugin-missing", #"{"context":{"method":"GET","uri":"/","headers":{}}}"#),
            plugin("plugin-basic", #"{"context":{"headers":{"Authorization":"Basic dXNlcjpwdw=="}}}"#),
            plugin("plugin-malformed-token", #"{"context":{"headers":{}},"credentials":{"type":"bearer","token":"a b"}}"#),
            plugin("plugin-bad-json", #"{"context":"#),
            plugin("plugin-shape-b", shapeB + #"{"access_token":"\#(reader)"},"client_ip":"127.0.0.1","user_agent":"x"}"#),
            plugin("plugin-shape-b-none", shapeB + #"{},"client_ip":"127.0.0.1","user_agent":"x"}"#),
            plugin("plugin-dpop", #"{"context":{"method":"GET","uri":"/","headers":{"Authorization":"DPoP \#(reader)","DPoP":"x.y.z"}}}"#),
            plugin("plugin-too-large", #"{"context":{"method":"GET","uri":"/\#(String(repeating: "a", count: 1200))","headers":{}}}"#),
            plugin("plugin-slashes", #"{"context":{"headers":{}},"credentials":{"type":"bearer","token":"\#(reader)"}}"#, path: "//plugin//authenticate"),
        ]
    }

    @Test func bothPathsGiveTheSameAnswersRecordsMetricsAndSpans() async throws {
        let directory = scratchDirectory()
        let clock = ManualClock()
        let fast = try await Self.start(eventLoop: true, clock: clock, directory: directory)
        let routed = try await Self.start(eventLoop: false, clock: clock, issuer: fast.tollgate, directory: directory)
        defer {
            Task {
                await fast.stop()
                await routed.stop()
            }
        }
        let reader = try await fast.tollgate.token(client: "reader", secret: "reader secret&=+", scope: "read")
        let writer = try await fast.tollgate.token(scope: "read write")
        // Made on both (so both audit trails hold its creation); they share the key, so each honours the other's.
        let share = try await Self.shareToken(fast)
        _ = try await Self.shareToken(routed)
        let corpus = Self.corpus(reader: reader, writer: writer) + Self.orthancCorpus(reader: reader, writer: writer, share: share)
        let instances = [fast, routed]
        // First on each: the misses, which both send through the router and cache.
        for (id, raw) in corpus {
            let answers = try await instances.asyncMap { try await Self.exchange(raw, port: $0.port) }
            #expect(Self.masked(answers[0]) == Self.masked(answers[1]), "first \(id)")
        }
        let beforeSettled = fast.tollgate.app.eventLoopAnswered.current
        // Then each alone on a connection, then all pipelined on one: answered from the cache.
        for (id, raw) in corpus {
            let answers = try await instances.asyncMap { try await Self.exchange(raw, port: $0.port) }
            #expect(Self.masked(answers[0]) == Self.masked(answers[1]), "\(id)")
            #expect(answers[0].hasPrefix("HTTP/1.1 "), "\(id): \(answers[0].prefix(80))")
        }
        // A head the parser refuses ends its connection (400, then close): it cannot be followed.
        let pipelined = corpus.filter { $0.id != "bad-chars" }.map {
            ($0.id + "-pipelined", $0.raw.replacingOccurrences(of: "X-Request-Id: \($0.id)\r\n", with: "X-Request-Id: \($0.id)-pipelined\r\n"))
        }
        let batch = pipelined.map(\.1).joined()
        let answers = try await instances.asyncMap { try await Self.exchange(batch, port: $0.port, answers: pipelined.count) }
        #expect(Self.masked(answers[0]) == Self.masked(answers[1]), "pipelined")
        for (id, _) in pipelined where !["no-id-pipelined"].contains(id) {
            #expect(answers[0].contains("X-Request-Id: \(id)\r\n"), "\(id) answered on the pipelined connection")
        }
        // The settled requests were answered on the event loop; the router-only instance answered none there.
        let settled = fast.tollgate.app.eventLoopAnswered.current - beforeSettled
        #expect(settled >= 2 * 28, "answered on the event loop: \(settled)")
        #expect(routed.tollgate.app.eventLoopAnswered.current == 0)

        // Access lines, by request id (the timings masked).
        let ids = Set(corpus.map(\.id) + pipelined.map(\.0))
        let lines = instances.map { Self.accessLines($0.tollgate.logs.records, ids: ids) }
        #expect(lines[0].count >= corpus.count * 2)
        #expect(lines[0] == lines[1], "\(Self.difference(lines[0], lines[1]))")

        // Audit records, in order (the time masked).
        // Not every request is audited (a 400, an anonymous profile); the records are written behind the answers.
        try await waitUntil { try instances.allSatisfy { try Self.auditLines($0.audit).count >= lines[0].count * 3 / 4 } }
        try await Task.sleep(for: .milliseconds(300))
        let audits = try instances.map { try Self.auditLines($0.audit) }
        #expect(audits[0].count > 10)
        #expect(audits[0] == audits[1], "\(Self.difference(audits[0], audits[1]))")

        // The metrics the requests moved.
        let metrics = try await instances.asyncMap { try await Self.requestMetrics($0.tollgate) }
        #expect(metrics[0].contains { $0.hasPrefix("tollgate_cache_hits_total") })
        #expect(metrics[0] == metrics[1], "\(Self.difference(metrics[0], metrics[1]))")

        // Spans: server spans by route and status, decision spans by cache, issuer and result, in the caller's trace too.
        try await waitUntil(seconds: 20) { instances.allSatisfy { Self.spanSummary($0.spans).count >= 40 } }
        try await Task.sleep(for: .milliseconds(500))
        let spans = instances.map { Self.spanSummary($0.spans) }
        #expect(spans[0] == spans[1], "\(Self.difference(spans[0], spans[1]))")
        #expect(spans[0].contains { $0.contains("trace=caller") })

        // Which requests the event loop answers, and which it leaves to the router.
        let byID = Dictionary(uniqueKeysWithValues: corpus.map { ($0.id, $0.raw) })
        let eventLoop = [
            "valid", "inactive", "missing", "anonymous", "ambiguous", "envoy", "plugin-valid", "plugin-shape-b", "plugin-bad-json", "plugin-slashes",
            "validate-share", "validate-other-study", "validate-system", "validate-no-credentials", "validate-bad-json", "profile-reader",
            "profile-inactive", "profile-anonymous", "authorize-reader", "authorize-labels", "authorize-both", "authorize-share",
            "authorize-relative", "authorize-wrong-credentials", "authorize-reader-write",
        ]
        let router = [
            "dpop", "with-body", "outbound", "plugin-dpop", "plugin-too-large", "validate-forged", "validate-user-token", "profile-user-id",
            "authorize-unknown-then-share",
        ]
        for id in eventLoop + router {
            let before = fast.tollgate.app.eventLoopAnswered.current
            _ = try await Self.exchange(byID[id]!, port: fast.port)
            #expect(fast.tollgate.app.eventLoopAnswered.current - before == (eventLoop.contains(id) ? 1 : 0), "\(id)")
        }
    }

    @Test func anAnswerNeverOvertakesAnEarlierRequestOnItsConnection() async throws {
        try await Self.withEventLoopInstance { fast in
            let reader = try await fast.tollgate.token(client: "reader", secret: "reader secret&=+", scope: "read")
            let settled =
                "GET /auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(reader)\r\nX-Original-Method: GET\r\nX-Original-URI: /dicom-web/x\r\nX-Request-Id: settled-%d\r\n\r\n"
            _ = try await Self.exchange(String(format: settled, 0), port: fast.port)
            // A request the router must answer (its token is not cached yet: it waits for introspection), then settled ones.
            let other = try await fast.tollgate.token(scope: "read")
            let slow =
                "GET /auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(other)\r\nX-Original-Method: GET\r\nX-Original-URI: /dicom-web/x\r\nX-Request-Id: slow\r\n\r\n"
            let batch = slow + (1...5).map { String(format: settled, $0) }.joined()
            let before = fast.tollgate.app.eventLoopAnswered.current
            let answer = try await Self.exchange(batch, port: fast.port, answers: 6)
            let order = answer.components(separatedBy: "X-Request-Id: ").dropFirst().map { $0.prefix { !$0.isNewline } }
            #expect(order == ["slow", "settled-1", "settled-2", "settled-3", "settled-4", "settled-5"])
            // Behind the unanswered request, none were answered on the event loop.
            #expect(fast.tollgate.app.eventLoopAnswered.current == before)
            // Once it is answered, the connection's next requests are.
            let again = try await Self.exchange((6...8).map { String(format: settled, $0) }.joined(), port: fast.port, answers: 3)
            #expect(again.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
            #expect(fast.tollgate.app.eventLoopAnswered.current == before + 3)
        }
    }

    @Test func aPluginBodyArrivingInPiecesIsHeldWholeAndAnOversizedOneGoesToTheRouter() async throws {
        try await Self.withEventLoopInstance { fast in
            let port = fast.port
            let reader = try await fast.tollgate.token(client: "reader", secret: "reader secret&=+", scope: "read")
            #expect(try await fast.tollgate.authenticate(reader).status == 200)
            let body = #"{"context":{"method":"GET","uri":"/","headers":{}},"credentials":{"type":"bearer","token":"\#(reader)"}}"#
            let before = fast.tollgate.app.eventLoopAnswered.current
            // Content-Length, the body in three writes.
            let connection = try await RawConnection.open(port: port)
            defer { Task { await connection.close() } }
            try await connection.send("POST /plugin/authenticate HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            for piece in [body.prefix(40), body.dropFirst(40).prefix(400), body.dropFirst(440)] {
                try await Task.sleep(for: .milliseconds(50))
                try await connection.send(String(piece))
            }
            try await waitUntil { Self.wholeAnswers(connection.received) == 1 }
            #expect(connection.received.contains(#""authenticated":true"#))
            // Chunked, in two chunks.
            let half = body.utf8.count / 2
            let chunked =
                String(format: "%x", half) + "\r\n" + String(body.prefix(half)) + "\r\n" + String(format: "%x", body.utf8.count - half) + "\r\n"
                + String(body.dropFirst(half)) + "\r\n0\r\n\r\n"
            try await connection.send("POST /plugin/authenticate HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
            try await waitUntil { Self.wholeAnswers(connection.received) == 2 }
            #expect(connection.received.components(separatedBy: #""authenticated":true"#).count == 3)
            #expect(fast.tollgate.app.eventLoopAnswered.current == before + 2)
            // Over server.max_body_bytes (1024 here): the router refuses it, in the plugin's words, and the connection goes on.
            let large = #"{"context":{"uri":"/\#(String(repeating: "a", count: 2000))"}}"#
            try await connection.send(
                "POST /plugin/authenticate HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + String(format: "%x", large.utf8.count) + "\r\n" + large
                    + "\r\n0\r\n\r\n")
            try await waitUntil { Self.wholeAnswers(connection.received) == 3 }
            #expect(connection.received.contains("HTTP/1.1 413"))
            #expect(fast.tollgate.app.eventLoopAnswered.current == before + 2)
        }
    }

    @Test func aConnectionAnsweredOnTheEventLoopIsKeptWhileBusyAndClosedWhenIdle() async throws {
        try await Self.withEventLoopInstance({ $0.server.idleTimeoutSeconds = 3 }) { fast in
            let reader = try await fast.tollgate.token(client: "reader", secret: "reader secret&=+", scope: "read")
            let request = "GET /auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(reader)\r\nX-Original-Method: GET\r\nX-Original-URI: /dicom-web/x\r\n\r\n"
            _ = try await Self.exchange(request, port: fast.port)
            let before = fast.tollgate.app.eventLoopAnswered.current
            // Hummingbird's connection-state handler must see these answers: a request every second for
            // 5 s keeps the connection open past its 3 s idle timeout (timed from the connection's start
            // if the handler saw none of them)...
            let connection = try await RawConnection.open(port: fast.port)
            defer { Task { await connection.close() } }
            for sent in 1...5 {
                try await connection.send(request)
                try await waitUntil { connection.received.components(separatedBy: "HTTP/1.1 200 OK").count == sent + 1 }
                try await Task.sleep(for: .seconds(1))
                #expect(await !connection.closedByServer(within: 0), "closed as idle after \(sent) answers")
            }
            #expect(fast.tollgate.app.eventLoopAnswered.current == before + 5)
            // ...and silence closes it.
            #expect(await connection.closedByServer(within: 10))
        }
    }
}

extension EventLoopAnswersTests {
    /// Sends `raw` on a fresh connection and returns what came back once `answers` whole answers have.
    static func exchange(_ raw: String, port: Int, answers: Int = 1) async throws -> String {
        let connection = try await RawConnection.open(port: port)
        defer { Task { await connection.close() } }
        try await connection.send(raw)
        do {
            try await waitUntil(seconds: 30) { Self.wholeAnswers(connection.received) >= answers }
        } catch {
            throw TestFailure("\(answers) answers not received; got \(Self.wholeAnswers(connection.received)): \(connection.received.suffix(600))")
        }
        return connection.received
    }

    /// How many whole answers (head and `Content-Length` body) `text` holds.
    static func wholeAnswers(_ text: String) -> Int {
        let bytes = Array(text.utf8)
        let separator = Array("\r\n\r\n".utf8)
        var start = 0
        var count = 0
        while let end = bytes[start...].firstRange(of: separator) {
            let head = String(decoding: bytes[start..<end.lowerBound], as: UTF8.self)
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            guard bytes.count - end.upperBound >= length else { break }
            start = end.upperBound + length
            count += 1
        }
        return count
    }

    /// The answers with `Date` and ids Tollgate made itself masked.
    static func masked(_ text: String) -> String {
        text.split(separator: "\r\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("Date: ") { return "Date: <date>" }
            if line.hasPrefix("X-Trace-Id: ") { return "X-Trace-Id: " + ownTraceMasked(String(line.dropFirst(12))) }
            if line.hasPrefix("X-Request-Id: "), line.count == 14 + 36, line.dropFirst(14).filter({ $0 == "-" }).count == 4 { return "X-Request-Id: <made>" }
            return String(line).replacing(/"trace_id":"([0-9a-f]{32})"/) { #""trace_id":"\#(ownTraceMasked(String($0.1)))""# }
        }.joined(separator: "\r\n")
    }

    /// What only one side has, for a readable failure.
    static func difference(_ left: [String], _ right: [String]) -> String {
        "only event loop: \(left.filter { !right.contains($0) }.prefix(3)); only router: \(right.filter { !left.contains($0) }.prefix(3))"
    }

    /// An id Tollgate made (UUID-shaped) differs by instance; a caller's is kept.
    static func madeIDMasked(_ id: String) -> String {
        id.count == 36 && id.filter({ $0 == "-" }).count == 4 ? "<made>" : id
    }

    /// A trace Tollgate began itself has a random id; the caller's is kept.
    static func ownTraceMasked(_ id: String) -> String {
        id == TracingTests.callerTrace ? id : "<own>"
    }

    static func accessLines(_ records: [LogCapture.Record], ids: Set<String>) -> [String] {
        records.filter { $0.message == "request" }.compactMap { record in
            guard let id = record.metadata["hb.request.id"], ids.contains(id) else { return nil }
            return record.metadata.filter { $0.key != "duration_ms" }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.key == "trace_id" ? ownTraceMasked($0.value) : $0.value)" }.joined(separator: " ")
        }
    }

    static func auditLines(_ path: String) throws -> [String] {
        try AuditServerTests.records(path).map { record in
            var record = record
            record["ts"] = nil
            if let trace = record["trace_id"] as? String { record["trace_id"] = ownTraceMasked(trace) }
            if let id = record["request_id"] as? String { record["request_id"] = madeIDMasked(id) }
            return String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        }.filter { !$0.contains("dev-issuer") }
    }

    /// Counters and histogram counts for the routes answered on the event loop, decisions, Orthanc's and the cache.
    static func requestMetrics(_ tollgate: RunningTollgate) async throws -> [String] {
        let text = try await tollgate.get("/metrics").body
        return text.split(separator: "\n").map(String.init).filter { line in
            guard !line.hasPrefix("#") else { return false }
            if line.hasPrefix("tollgate_http_request_duration_seconds_count") {
                return ["/auth", "/plugin", "/tokens", "/user", "/orthanc"].contains { line.contains(#"route="\#($0)"#) }
            }
            return line.hasPrefix("tollgate_decisions_total") || line.hasPrefix("tollgate_orthanc_") || line.hasPrefix("tollgate_cache_hits_total")
                || line.hasPrefix("tollgate_cache_negative_hits_total") || line.hasPrefix("tollgate_cache_misses_total")
        }.sorted()
    }

    /// Each span by name, kind, route attributes and decision attributes; whether it is in the caller's trace.
    static func spanSummary(_ receiver: OTLPReceiver) -> [String] {
        let kept = [
            "http.route", "http.response.status_code", "http.request.method", "url.path", "tollgate.cache", "tollgate.issuer", "tollgate.result",
            "tollgate.reason", "tollgate.request_id",
        ]
        return receiver.spans.filter { $0.name.contains("/auth") || $0.name.contains("/plugin") || $0.name == "tollgate.decision" }.map { span in
            let attributes = kept.compactMap { key in span.attributes[key].map { "\(key)=\(madeIDMasked($0))" } }.joined(separator: " ")
            return "\(span.name) kind=\(span.kind) error=\(span.isError) trace=\(span.traceID == TracingTests.callerTrace ? "caller" : "own") \(attributes)"
        }.sorted()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
