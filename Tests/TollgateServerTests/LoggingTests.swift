import Foundation
import Logging
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// The audit found no access log, refusals logged on one front end only, two request-id fields
/// and numbers logged as strings.
@Suite("logs")
struct LoggingTests {
    static func event(_ metadata: Logger.Metadata) -> LogEvent {
        LogEvent(level: .info, message: "request", metadata: metadata, source: nil, file: #fileID, function: #function, line: #line)
    }

    @Test func jsonLinesCarryOneRequestIDAndNumbersAsNumbers() throws {
        var handler = TollgateLogHandler(label: "tollgate", level: .info, format: .json)
        handler[metadataKey: "hb.request.id"] = .string("req-1")
        let line = handler.line(
            for: Self.event([
                "status": .stringConvertible(200), "duration_ms": .stringConvertible(0.25), "cached": .stringConvertible(true), "route": .string("/auth"),
            ]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["request_id"] as? String == "req-1")
        #expect(object["hb.request.id"] == nil)
        #expect(object["status"] as? Int == 200)
        #expect(object["duration_ms"] as? Double == 0.25)
        #expect(object["cached"] as? Bool == true)
        #expect((object["ts"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        #expect(line.hasSuffix("}\n"))
    }

    /// The access line's own fast path renders the same fields as the generic one.
    @Test func accessLinesAreJSONWithTheDocumentedFields() throws {
        let handler = TollgateLogHandler(label: "tollgate", level: .info, format: .json)
        let line = try #require(
            handler.accessText(
                .init(
                    method: "GET", route: "/auth/**", status: 401, durationMS: 0.25,
                    requestID: #"id-with-"quote"#, issuer: "dev", reason: "expired")))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "request")
        #expect(object["level"] as? String == "info")
        #expect(object["route"] as? String == "/auth/**")
        #expect(object["status"] as? Int == 401)
        #expect(object["duration_ms"] as? Double == 0.25)
        #expect(object["request_id"] as? String == #"id-with-"quote"#)
        #expect(object["issuer"] as? String == "dev" && object["reason"] as? String == "expired")
        #expect(
            TollgateLogHandler(label: "t", level: .warning, format: .json).accessText(
                .init(
                    method: "GET", route: "/health", status: 200, durationMS: 1.0, requestID: "r", issuer: nil, reason: nil)) == nil)
        let text = try #require(
            TollgateLogHandler(label: "t", level: .info, format: .text).accessText(
                .init(
                    method: "GET", route: "/health", status: 200, durationMS: 1.0, requestID: "r", issuer: nil, reason: nil)))
        #expect(text.contains(" INFO [t] request duration_ms=1.0 method=GET request_id=r route=/health status=200"))
    }

    /// Durations print as `String(Double)` prints milliseconds rounded to the microsecond.
    @Test func accessDurationsKeepTheirDecimalForm() {
        for (value, expected) in [(0.25, "0.25"), (1.0, "1.0"), (12.345, "12.345"), (0.001, "0.001"), (1500.0, "1500.0"), (0.1, "0.1")] {
            var line = TextBuffer()
            TollgateLogHandler.appendMilliseconds(value, to: &line)
            #expect(String(decoding: line.bytes, as: UTF8.self) == expected)
            #expect(String(value) == expected)
        }
    }

    @Test func everyRequestGetsOneAccessLineAndRefusalsAreLoggedOnEveryFrontEnd() async throws {
        let tg = try await RunningTollgate.start { config in
            config.orthanc.webserviceUsername = "orthanc"
            config.orthanc.webservicePassword = Secret("ws-secret")
        }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        _ = try await tg.get("/auth", headers: [("Authorization", "Bearer " + token), ("X-Request-Id", "access-ok")])
        _ = try await tg.get("/auth", headers: [("X-Request-Id", "access-none")])
        // A token in the auth URL's query (RFC 6750 §2.3) is not a constraint Tollgate knows: refused, never logged.
        _ = try await tg.get("/auth?access_token=" + token, headers: [("X-Request-Id", "access-query")])
        _ = try await tg.post(
            "/plugin/authenticate", json: #"{"credentials":{"type":"bearer","token":"not-a-real-token"}}"#, headers: [("X-Request-Id", "access-mf")])
        _ = try await tg.post(
            "/user/get-profile", json: #"{"token-key":"Authorization","token-value":"Bearer garbage","server-id":null}"#,
            headers: [("X-Request-Id", "access-orthanc"), ("Authorization", BasicAuthorization.value(user: "orthanc", password: "ws-secret"))])
        let lines = tg.logs.text.split(separator: "\n")
        func access(_ id: String) -> String? { lines.first { $0.contains("info request ") && $0.contains(id) }.map(String.init) }
        let ok = try #require(access("access-ok"))
        for field in [#""route": /auth"#, #""status": 200"#, #""issuer": dev"#, #""reason": ok"#, #""duration_ms": "#, #""method": GET"#] {
            #expect(ok.contains(field), "\(field) in \(ok)")
        }
        let none = try #require(access("access-none"))
        #expect(none.contains(#""status": 401"#) && none.contains(#""reason": missing_token"#), "\(none)")
        let query = try #require(access("access-query"))
        #expect(query.contains(#""status": 400"#) && query.contains(#""reason": unknown_constraint"#), "\(query)")
        #expect(try #require(access("access-mf")).contains(#""reason": inactive"#))
        #expect(try #require(access("access-orthanc")).contains(#""reason": inactive"#))
        for id in ["access-none", "access-mf", "access-orthanc"] {
            #expect(lines.contains { $0.hasPrefix("debug token refused") && $0.contains(id) }, "no refusal logged for \(id)")
        }
        #expect(!tg.logs.text.contains(token))
        #expect(!tg.logs.text.contains("not-a-real-token"))
    }

    @Test func accessLogCanBeTurnedOff() async throws {
        try await withRunningTollgate(configured: { $0.log.access = false }) { tg in
            _ = try await tg.get("/health", headers: [("X-Request-Id", "quiet")])
            #expect(!tg.logs.text.contains("info request "))
        }
    }

    @Test func aBusyPortIsExplainedNotAnErrno() async throws {
        try await withRunningTollgate { tg in
            let second = try await TollgateApp(config: devConfig(port: tg.app.config.server.port), logger: LogCapture().logger())
            do {
                try await second.run(signals: [])
                Issue.record("a second server on a busy port ran")
            } catch let error as ListenError {
                #expect(
                    error.description
                        == "cannot listen on 127.0.0.1:\(tg.app.config.server.port): the address is already in use (another Tollgate, or another service, listens there); choose another with --host/--port or server.host/server.port"
                )
            }
        }
    }
}
