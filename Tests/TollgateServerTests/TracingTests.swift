import Foundation
import Testing
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// W3C trace context in and out, and OpenTelemetry export to a collector written in the test.
@Suite("tracing")
struct TracingTests {
    static let callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let callerSpan = "00f067aa0ba902b7"
    static var traceparent: String { "00-\(callerTrace)-\(callerSpan)-01" }

    static func start(_ peer: PeerServer, receiver: OTLPReceiver?) async throws -> RunningTollgate {
        try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = ["pacs": peerServer(peer) { $0.url = peer.base + "/upstream/dicom-web" }]
            if let receiver { Self.exportSpans(&config, to: receiver) }
        }
    }

    /// OTLP/JSON to the receiver, in batches sent every 50 ms.
    static func exportSpans(_ config: inout TollgateConfig, to receiver: OTLPReceiver) {
        config.tracing.enabled = true
        config.tracing.endpoint = receiver.endpoint
        config.tracing.protocol = .httpJSON
        config.tracing.batchDelayMS = 50
    }

    @Test func spansJoinTheCallersTraceAndEveryOutboundCallCarriesIt() async throws {
        let receiver = try await OTLPReceiver.start()
        defer { Task { await receiver.stop() } }
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer, receiver: receiver)
        defer { Task { await tg.stop() } }
        let token = try await tg.token(scope: "read")
        #expect(try await tg.get("/health").status == 200)
        #expect(try await tg.get("/ready", headers: [("traceparent", "00-\(String(repeating: "1", count: 32))-\(Self.callerSpan)-01")]).status == 200)

        let first = try await tg.get(
            "/auth",
            headers: [
                ("Authorization", "Bearer " + token), ("traceparent", Self.traceparent),
                ("tracestate", "vendor=opaque"),
            ])
        #expect(first.status == 200)
        #expect(first.header("X-Trace-Id") == Self.callerTrace)
        let second = try await tg.get("/auth", headers: [("Authorization", "Bearer " + token), ("traceparent", Self.traceparent)])
        #expect(second.status == 200)

        let proxyTrace = "0af7651916cd43dd8448eb211c80319c"
        let proxied = try await tg.get(
            "/proxy/pacs/studies?PatientID=SECRET-PATIENT",
            headers: apiKeyHeader + [
                ("traceparent", "00-\(proxyTrace)-b7ad6b7169203331-01")
            ])
        #expect(proxied.status == 200)

        try await waitUntil(seconds: 20) {
            receiver.spans.contains { $0.attributes["tollgate.call"] == "proxy" }
                && receiver.spans.filter { $0.name == "tollgate.decision" && $0.traceID == Self.callerTrace }.count == 2
                && receiver.spans.filter { $0.kind == 2 && $0.traceID == Self.callerTrace && $0.parentSpanID == Self.callerSpan }.count == 2
        }
        let spans = receiver.spans
        let inCallerTrace = spans.filter { $0.traceID == Self.callerTrace }
        #expect(!spans.contains { $0.name == "GET /health" }, "probes are not traced unless asked inside a trace")
        #expect(spans.contains { $0.name == "GET /ready" && $0.traceID == String(repeating: "1", count: 32) })

        // The caller's span is the parent of Tollgate's server span, named by route template.
        let serverSpans = inCallerTrace.filter { $0.kind == 2 && $0.parentSpanID == Self.callerSpan }
        #expect(serverSpans.count == 2)
        #expect(serverSpans.allSatisfy { $0.name == "GET /auth" && $0.attributes["http.response.status_code"] == "200" })
        // OpenTelemetry's required HTTP server attributes (the path never carries the query).
        #expect(serverSpans.allSatisfy { $0.attributes["url.path"] == "/auth" && $0.attributes["url.scheme"] == "http" })

        // The decision: a miss that introspected, then a hit; the issuer alias and the result.
        let decisions = inCallerTrace.filter { $0.name == "tollgate.decision" }
        #expect(Set(decisions.map { $0.attributes["tollgate.cache"] ?? "" }) == ["miss", "hit"])
        #expect(decisions.allSatisfy { $0.attributes["tollgate.issuer"] == "dev" && $0.attributes["tollgate.result"] == "allowed" })
        #expect(decisions.allSatisfy { decision in serverSpans.contains { $0.spanID == decision.parentSpanID } })
        let miss = try #require(decisions.first { $0.attributes["tollgate.cache"] == "miss" })

        // Introspection is a client span below the decision; the dev issuer (served by this same
        // process) received Tollgate's traceparent, so its server span is that client span's child.
        let introspection = try #require(inCallerTrace.first { $0.attributes["tollgate.call"] == "introspection" })
        #expect(introspection.kind == 3 && introspection.parentSpanID == miss.spanID)
        #expect(introspection.name == "POST introspection")
        #expect(introspection.attributes["http.response.status_code"] == "200")
        #expect(introspection.attributes["url.full"]?.hasSuffix("/dev-issuer/introspect") == true)
        #expect(
            inCallerTrace.contains { $0.kind == 2 && $0.parentSpanID == introspection.spanID },
            "the peer's side of the call continues the trace")

        // The proxy: a client span in the caller's trace, and the peer got its traceparent.
        let proxySpan = try #require(spans.first { $0.attributes["tollgate.call"] == "proxy" })
        #expect(proxySpan.traceID == proxyTrace)
        #expect(proxySpan.attributes["url.full"]?.hasSuffix("/upstream/dicom-web/studies") == true, "no query in a span")
        let upstream = try #require(peer.upstreamRequests.last)
        #expect(upstream.header("traceparent") == "00-\(proxyTrace)-\(proxySpan.spanID)-01")
        #expect(spans.contains { $0.attributes["tollgate.call"] == "token" }, "the token fetch is traced too")

        // Never a token, a secret or a query value in what is exported.
        for body in receiver.bodies {
            for secret in [token, "tollgate-dev-secret", "peer-client-secret-XYZ", "peer-token-", "SECRET-PATIENT", "Bearer"] {
                #expect(!body.contains(secret), "exported spans contain \(secret.prefix(12))…")
            }
        }
        #expect(tg.logs.text.contains(#"trace_id"#) && tg.logs.text.contains(Self.callerTrace), "the trace id is in the logs")
    }

    /// The other outbound calls: the JWKS and userinfo of a JWT issuer, and the Orthanc push (which
    /// runs in the background, so it starts traces of its own).
    @Test func keysUserinfoAndTheOrthancPushAreTracedToo() async throws {
        let receiver = try await OTLPReceiver.start()
        defer { Task { await receiver.stop() } }
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.inbound.issuers = [IssuerConfig(name: "dev", issuer: nil, embedded: true, mode: .jwt, introspection: nil)]
            config.inbound.issuers[0].userinfo.enabled = true
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = ["orthanc-b": peerServer(peer)]
            config.orthanc.url = peer.base
            config.orthanc.dicomwebServers = ["b": OrthancDicomWebServerConfig(outboundServer: "orthanc-b")]
            Self.exportSpans(&config, to: receiver)
        }
        defer { Task { await tg.stop() } }
        let token = try await tg.token()
        let answer = try await tg.get("/auth", headers: [("Authorization", "Bearer " + token), ("traceparent", Self.traceparent)])
        #expect(answer.status == 200)
        // The decision span ends after the calls it made, so it may come in a later export batch.
        try await waitUntil(seconds: 20) {
            Set(receiver.spans.compactMap { $0.attributes["tollgate.call"] }).isSuperset(of: ["jwks", "userinfo", "orthanc_push", "token"])
                && receiver.spans.contains { $0.name == "tollgate.decision" && $0.traceID == Self.callerTrace }
        }
        let spans = receiver.spans
        let decision = try #require(spans.first { $0.name == "tollgate.decision" && $0.traceID == Self.callerTrace })
        let userinfo = try #require(spans.first { $0.attributes["tollgate.call"] == "userinfo" })
        #expect(userinfo.traceID == Self.callerTrace && userinfo.parentSpanID == decision.spanID)
        let push = try #require(spans.first { $0.attributes["tollgate.call"] == "orthanc_push" })
        #expect(push.name == "PUT orthanc_push" && push.attributes["http.response.status_code"] == "200")
        #expect(push.traceID != Self.callerTrace, "background work has traces of its own")
        for body in receiver.bodies { #expect(!body.contains(token) && !body.contains("peer-client-secret-XYZ")) }
    }

    @Test func withTracingOffTheCallersContextIsPassedThroughUnchanged() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer, receiver: nil)
        defer { Task { await tg.stop() } }

        let answer = try await tg.get(
            "/proxy/pacs/studies",
            headers: apiKeyHeader + [
                ("traceparent", Self.traceparent), ("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
            ])
        #expect(answer.status == 200)
        #expect(answer.header("X-Trace-Id") == Self.callerTrace)
        let upstream = try #require(peer.upstreamRequests.last)
        #expect(upstream.header("traceparent") == Self.traceparent)
        #expect(upstream.header("tracestate") == "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")

        // Error bodies name the trace.
        let missing = try await tg.get("/proxy/nowhere/x", headers: apiKeyHeader + [("traceparent", Self.traceparent)])
        #expect(missing.status == 404)
        #expect(missing.json["trace_id"] as? String == Self.callerTrace)
        #expect(missing.json["request_id"] as? String == missing.header("X-Request-Id"))

        // A traceparent that is not W3C's is ignored: nothing passed on, no trace id made up.
        for bad in [
            "00-\(String(repeating: "0", count: 32))-\(Self.callerSpan)-01", "ff-\(Self.callerTrace)-\(Self.callerSpan)-01",
            "00-\(Self.callerTrace.uppercased())-\(Self.callerSpan)-01", "garbage", String(repeating: "a", count: 4000),
        ] {
            let before = peer.upstreamRequests.count
            let ignored = try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader + [("traceparent", bad)])
            #expect(ignored.status == 200)
            #expect(ignored.header("X-Trace-Id") == nil)
            #expect(peer.upstreamRequests.count == before + 1)
            #expect(peer.upstreamRequests.last?.header("traceparent") == nil)
        }
        let plain = try await tg.get("/proxy/nowhere/x", headers: apiKeyHeader)
        #expect(plain.json["trace_id"] == nil)
    }

    @Test func tracingIsOnWhenTheOTLPEndpointIsSetAndOffWhenTold() {
        let off = TracingConfig()
        #expect(!off.isEnabled(environment: [:]))
        #expect(off.isEnabled(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]))
        #expect(off.isEnabled(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"]))
        #expect(!off.isEnabled(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"]))
        #expect(!off.isEnabled(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"]))
        var explicit = TracingConfig()
        explicit.enabled = false
        #expect(!explicit.isEnabled(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]))
        explicit.enabled = true
        #expect(explicit.isEnabled(environment: [:]))
    }

    @Test func badTracingKeysAreNamed() throws {
        let yaml = """
            tracing:
              endpoint: "ftp://collector"
              service_name: ""
              sample_ratio: 1.5
              batch_delay_ms: 0
            """
        let errors = try ConfigLoader.parse(yaml: yaml).validationErrors().map(\.path)
        #expect(Set(errors).isSuperset(of: ["tracing.endpoint", "tracing.service_name", "tracing.sample_ratio", "tracing.batch_delay_ms"]))
        #expect(throws: (any Error).self) { try ConfigLoader.parse(yaml: "tracing:\n  protocol: grpc\n") }
        #expect(throws: (any Error).self) { try ConfigLoader.parse(yaml: "tracing:\n  exporter: zipkin\n") }
    }
}
