import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// The token-injecting reverse proxy against an upstream written in the test.
@Suite("token-injecting proxy")
struct ProxyTests {
    static func start(_ peer: PeerServer, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await RunningTollgate.start(clock: ManualClock(running: true)) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = ["pacs": peerServer(peer) { $0.url = peer.base + "/upstream/dicom-web" }]
            config.proxy.forwardRequestHeaders += ["x-site-id", "x-hop"]
            adjust(&config)
        }
    }

    @Test func forwardsAllowlistedHeadersInjectsTheTokenAndKeepsTheQuery() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        let query = "PatientName=DOE%5EJOHN*&StudyDate=20240101-&includefield=0020000D&x=a+b&&empty="
        let answer = try await tg.get(
            "/proxy/pacs/studies/1.2.840.10008?" + query,
            headers: apiKeyHeader + [
                ("Accept", "application/dicom+json"), ("Authorization", "Bearer caller-token"), ("Cookie", "session=caller"),
                ("X-Site-Id", "RPVNA-1"), ("X-Not-Allowed", "1"), ("Connection", "X-Hop"), ("X-Hop", "dropped"),
                ("X-Request-Id", "trace-42"),
            ])
        #expect(answer.status == 200)
        let upstream = try #require(peer.upstreamRequests.last)
        #expect(upstream.path == "/upstream/dicom-web/studies/1.2.840.10008")
        #expect(upstream.query == query)
        #expect(upstream.header("Authorization")?.hasPrefix("Bearer peer-token-1-") == true)
        #expect(upstream.header("Accept") == "application/dicom+json")
        #expect(upstream.header("X-Site-Id") == "RPVNA-1")
        #expect(upstream.header("X-Request-Id") == "trace-42")
        for dropped in ["Cookie", "X-Not-Allowed", "X-Hop", "X-API-Key"] { #expect(upstream.header(dropped) == nil, "\(dropped)") }
        #expect(answer.header("X-Upstream") == "yes")
        #expect(answer.header("Cache-Control") == "private")
        #expect(answer.header("Keep-Alive") == nil)
        #expect(answer.header("Set-Cookie") == nil)
        #expect(answer.header("X-Request-Id") == "trace-42")

        let root = try await tg.get("/proxy/pacs", headers: apiKeyHeader)
        #expect(root.status == 200)
        #expect(peer.upstreamRequests.last?.path == "/upstream/dicom-web/")
        #expect(try await tg.metric(#"tollgate_upstream_request_duration_seconds_count{server="pacs",status_class="2xx"}"#) == 2)
        #expect(!tg.logs.text.contains("peer-token"))
    }

    /// `headers` replace what the caller sent, on every request including the 401 retry's.
    @Test func staticHeadersAreForcedOnEveryProxiedRequest() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { config in
            config.outbound.servers["pacs"]?.headers = ["Rp-Vna-Site-Id": "site-42", "Accept": "application/dicom+json"]
        }
        defer { Task { await tg.stop() } }
        let answer = try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader + [("Accept", "text/html"), ("X-Site-Id", "caller")])
        #expect(answer.status == 200)
        let upstream = try #require(peer.upstreamRequests.last)
        #expect(upstream.headers.filter { $0.0.lowercased() == "accept" }.map(\.1) == ["application/dicom+json"])
        #expect(upstream.header("Rp-Vna-Site-Id") == "site-42")
        #expect(upstream.header("X-Site-Id") == "caller")
        #expect(upstream.header("Authorization")?.hasPrefix("Bearer peer-token-") == true)
    }

    /// Seed 004's breaker for VNA requests: consecutive 502/503/504 (not 500) open it, it answers
    /// 503 CIRCUIT_OPEN without reaching the peer, and one probe after `open_seconds` closes it.
    @Test func upstreamCircuitBreakerOpensOnFailuresAndProbesAfterItsPause() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let clock = ManualClock(running: true)
        let tg = try await RunningTollgate.start(clock: clock) { config in
            config.admin = AdminConfig(apiKeys: [testAPIKey])
            config.outbound.servers = [
                "pacs": peerServer(peer) { server in
                    server.url = peer.base + "/upstream/dicom-web"
                    server.upstreamCircuitBreaker.failureThreshold = 3
                    server.upstreamCircuitBreaker.failureRatio = 0
                    server.upstreamCircuitBreaker.openSeconds = 30
                }
            ]
        }
        defer { Task { await tg.stop() } }
        for _ in 0..<5 { #expect(try await tg.get("/proxy/pacs/status/500", headers: apiKeyHeader).status == 500) }
        #expect(try await tg.metric(#"tollgate_circuit_breaker_state{server="pacs",kind="upstream"}"#) == 0)
        for _ in 0..<3 { #expect(try await tg.get("/proxy/pacs/status/503", headers: apiKeyHeader).status == 503) }
        let reached = peer.upstreamRequests.count
        let refused = try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader)
        #expect(refused.status == 503)
        #expect(refused.json["error"] as? String == "CIRCUIT_OPEN")
        #expect(Int(refused.header("Retry-After") ?? "") ?? 0 > 0)
        #expect(refused.json["request_id"] as? String != nil)
        #expect(peer.upstreamRequests.count == reached, "an open breaker sends nothing")
        #expect(try await tg.metric(#"tollgate_circuit_breaker_state{server="pacs",kind="upstream"}"#) == 1)
        clock.advance(by: 31)
        #expect(try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader).status == 200)
        #expect(try await tg.metric(#"tollgate_circuit_breaker_state{server="pacs",kind="upstream"}"#) == 0)
        #expect(peer.upstreamRequests.count == reached + 1, "the probe reached the peer")
    }

    /// A malformed chunked upload, a body cut short and an abandoned upload are the caller's faults:
    /// they never count against the peer, so the breaker stays closed for everybody else.
    @Test func callerBodyFaultsNeverOpenTheUpstreamBreaker() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { config in
            config.outbound.servers["pacs"]?.upstreamCircuitBreaker.failureThreshold = 2
            config.outbound.servers["pacs"]?.upstreamCircuitBreaker.failureRatio = 0
        }
        defer { Task { await tg.stop() } }
        let head = "POST /proxy/pacs/upload HTTP/1.1\r\nHost: t\r\nX-API-Key: \(testAPIKey)\r\nContent-Type: application/dicom\r\n"
        for round in 0..<3 {
            let malformed = try await RawConnection.open(port: tg.app.config.server.port)
            try await malformed.send(head + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ-not-a-size\r\n")
            #expect(await malformed.closedByServer(within: 10), "round \(round): a malformed chunked body ends the connection")
            #expect(!malformed.received.contains(" 502 "))

            let abandoned = try await RawConnection.open(port: tg.app.config.server.port)
            try await abandoned.send(head + "Content-Length: 100000\r\n\r\n" + String(repeating: "x", count: 5000))
            try await waitUntil(seconds: 10) { peer.upstreamRequests.count >= 2 * round + 2 }
            await abandoned.close()
        }
        // Every upload has been answered (or its caller was gone) before the breaker is asked.
        @Sendable func proxiedPosts() async throws -> [(status: String, count: Double)] {
            try await tg.get("/metrics").body.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("tollgate_http_request_duration_seconds_count{"), line.contains("proxy"), line.contains(#"method="POST""#),
                    let status = line.split(separator: #"status=""#).last?.prefix(3), let count = Double(line.split(separator: " ").last ?? "")
                else { return nil }
                return (String(status), count)
            }
        }
        try await waitUntil(seconds: 15) { (try? await proxiedPosts().reduce(0) { $0 + $1.count }) == 6 }
        #expect(try await proxiedPosts().allSatisfy { !$0.status.hasPrefix("5") }, "no caller fault is answered as the upstream's")
        let after = try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader)
        #expect(after.status == 200, "the breaker stayed closed: \(after.body)")
        #expect(try await tg.metric(#"tollgate_circuit_breaker_state{server="pacs",kind="upstream"}"#) == 0)
    }

    /// A server's own `upstream_timeout_ms` wins over `proxy.upstream_timeout_ms`, and a timeout counts against the peer.
    @Test func aServersOwnUpstreamTimeoutWins() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { config in
            config.proxy.upstreamTimeoutMS = 30000
            config.outbound.servers["pacs"]?.upstreamTimeoutMS = 200
            config.outbound.servers["pacs"]?.upstreamCircuitBreaker.failureThreshold = 1
        }
        defer { Task { await tg.stop() } }
        let slow = try await tg.get("/proxy/pacs/slow", headers: apiKeyHeader)
        #expect(slow.status == 504)
        #expect(slow.json["error"] as? String == "UPSTREAM_ERROR")
        #expect(try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader).json["error"] as? String == "CIRCUIT_OPEN")
    }

    @Test func upstreamConnectionsAreCappedAndReused() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        // A slow upstream that counts how many requests it holds at once.
        let inFlight = Mutex((now: 0, most: 0, total: 0))
        let router = Router()
        router.get("/slow/**") { _, _ -> String in
            inFlight.withLock {
                $0.now += 1; $0.most = max($0.most, $0.now); $0.total += 1
            }
            try await Task.sleep(for: .milliseconds(150))
            inFlight.withLock { $0.now -= 1 }
            return "ok"
        }
        let port = try await freePort()
        let slow = try await TestHTTPServer.start(router: router, port: port)
        defer { Task { await slow.stop() } }
        let tg = try await Self.start(peer) { config in
            config.outbound.servers["pacs"]?.url = "http://127.0.0.1:\(port)/slow/"
            config.proxy.maxUpstreamConnections = 2
        }
        defer { Task { await tg.stop() } }
        let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
            for index in 0..<8 { group.addTask { try await tg.get("/proxy/pacs/studies/\(index)", headers: apiKeyHeader).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 8), "every request waits for a connection, none is refused")
        let seen = inFlight.withLock { $0 }
        #expect(seen.total == 8)
        #expect(seen.most <= 2, "at most max_upstream_connections requests reach the upstream at once: \(seen.most)")
        #expect(seen.most == 2, "both connections are used")
    }

    @Test func unknownServerIsEndpointNotFound() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        let answer = try await tg.get("/proxy/nope/studies", headers: apiKeyHeader)
        #expect(answer.status == 404)
        #expect(answer.json["error"] as? String == "ENDPOINT_NOT_FOUND")
    }

    /// Audit defect 5: the router skips an empty segment, so a remainder sliced from the raw path
    /// was shifted (`/proxy//pacs/x` reached the upstream as `…/s/x`). Such paths are refused.
    @Test func emptySegmentsAroundTheServerNameAreRefused() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        let port = tg.app.config.server.port
        for path in ["/proxy//pacs/x", "/proxy///pacs/studies", "//proxy/pacs/x"] {
            let status = try await rawHTTPStatus(port: port, target: path, headers: ["X-API-Key: \(testAPIKey)"])
            #expect(status == 400 || status == 404, "\(path) → \(status)")
        }
        #expect(peer.upstreamRequests.isEmpty)
        #expect(try await rawHTTPStatus(port: port, target: "/proxy/pacs/studies", headers: ["X-API-Key: \(testAPIKey)"]) == 200)
    }

    @Test func pathsCannotEscapeTheUpstreamBase() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        let port = tg.app.config.server.port
        for path in [
            "/proxy/pacs/../secret", "/proxy/pacs/studies/../../secret", "/proxy/pacs/%2e%2e/secret", "/proxy/pacs/.%2E/secret",
            "/proxy/pacs/a%2Fb", "/proxy/pacs/a%2f..%2fsecret", "/proxy/pacs/a%5C..", "/proxy/pacs/a\\..\\b", "/proxy/pacs/./x",
            "/proxy/pacs/%zz",
        ] {
            let status = try await rawHTTPStatus(port: port, target: path, headers: ["X-API-Key: \(testAPIKey)"])
            #expect(status == 400 || status == 404, "\(path) → \(status)")
        }
        #expect(peer.upstreamRequests.isEmpty)
        #expect(try ProxyTarget.url(base: "http://h/dicom-web", path: "/studies/1", query: nil) == "http://h/dicom-web/studies/1")
        #expect(try ProxyTarget.url(base: "http://h/dicom-web/", path: "", query: "") == "http://h/dicom-web/?")
        #expect(throws: ProxyTarget.Rejection.traversal) { try ProxyTarget.url(base: "http://h/", path: "/%2E%2e", query: nil) }
    }

    @Test func upstream401RefreshesOnceAndRetries() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { $0.outbound.servers["pacs"]!.url = peer.upstreamURL }
        defer { Task { await tg.stop() } }
        let fetchesBefore = peer.tokenRequests.count
        let retried = try await tg.get("/proxy/pacs/revoking", headers: apiKeyHeader)
        #expect(retried.status == 200)
        #expect(retried.body == "fine")
        #expect(peer.tokenRequests.count == fetchesBefore + 1)
        let calls = peer.upstreamRequests.filter { $0.path == "/upstream/revoking" }
        #expect(calls.count == 2)
        #expect(calls[0].header("Authorization") != calls[1].header("Authorization"))
    }

    @Test func upstream401IsNotRetriedForBodiesOrTooOften() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer) { $0.outbound.servers["pacs"]!.url = peer.upstreamURL }
        defer { Task { await tg.stop() } }
        let fetchesBefore = peer.tokenRequests.count
        let posted = try await tg.send("/proxy/pacs/revoking", method: .POST, headers: apiKeyHeader, body: Array("x".utf8))
        #expect(posted.status == 401)
        #expect(peer.tokenRequests.count == fetchesBefore)
        // The first GET refreshes; the new token is accepted, so nothing more is needed.
        #expect(try await tg.get("/proxy/pacs/revoking", headers: apiKeyHeader).status == 200)
        #expect(peer.tokenRequests.count == fetchesBefore + 1)
    }

    /// Tollgate runs as its own process here so that its peak RSS is its own, not the suites' running beside it.
    @Test func hugeBodiesStreamBothWaysWithFlatMemory() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tollgate = try await TollgateProcess.start(
            config: """
                log: {level: warning, format: text}
                outbound:
                  servers:
                    pacs: {url: "\(peer.base)/upstream/dicom-web", token_endpoint: "\(peer.tokenURL)", client_id: c, client_secret: s}
                admin: {auth_mode: api_key, api_keys: ["\(testAPIKey)"]}
                """)
        defer { Task { await tollgate.stop() } }
        #expect(try await tollgate.status("/proxy/pacs/studies", headers: apiKeyHeader) == 200)
        let settled = try tollgate.memory("VmRSS")
        let size = 200 << 20

        var upload = HTTPClientRequest(url: tollgate.base + "/proxy/pacs/upload")
        upload.method = .POST
        upload.headers.add(name: "X-API-Key", value: testAPIKey)
        upload.headers.add(name: "Content-Type", value: "application/dicom")
        let chunk = ByteBuffer(repeating: 0x44, count: 1 << 20)
        upload.body = .stream(ChunkSequence(chunk: chunk, count: size >> 20), length: .known(Int64(size)))
        let uploaded = try await tollgate.client.execute(upload, timeout: .seconds(120))
        #expect(uploaded.status == .ok)
        let body = String(buffer: try await uploaded.body.collect(upTo: 1 << 16))
        #expect(body == #"{"bytes":\#(size)}"#)

        let download = try await tollgate.client.execute(
            HTTPClientRequest(url: tollgate.base + "/proxy/pacs/download/\(size)").with(header: "X-API-Key", testAPIKey), timeout: .seconds(120))
        #expect(download.headers.first(name: "Content-Length") == String(size))
        var received = 0
        for try await part in download.body { received += part.readableBytes }
        #expect(received == size)
        let grown = try tollgate.memory("VmHWM") - settled
        print("proxy streaming test: 200 MB up and 200 MB down, Tollgate's peak RSS growth \(grown >> 20) MB")
        #expect(grown < 64 << 20)
    }

    @Test func upstreamClosingMidResponseDoesNotHurtTollgate() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tg = try await Self.start(peer)
        defer { Task { await tg.stop() } }
        let response = try await tg.client.execute(
            HTTPClientRequest(url: tg.base + "/proxy/pacs/close-mid").with(header: "X-API-Key", testAPIKey), timeout: .seconds(10))
        #expect(response.status == .ok)
        await #expect(throws: (any Error).self) { _ = try await response.body.collect(upTo: 8 << 20) }
        #expect(try await tg.get("/health").status == 200)
        #expect(try await tg.get("/proxy/pacs/studies", headers: apiKeyHeader).status == 200)
    }

    @Test func bodyLimitTimeoutsAndDeadUpstreamsGetSeedErrorCodes() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let closed = try await freePort()
        let tg = try await Self.start(peer) { config in
            config.proxy.maxBodyBytes = 1024
            // The slow route takes 2 s. Only the server it is asked through waits 1 s at most, so
            // nothing else races that timeout on a loaded machine.
            config.outbound.servers["slowpoke"] = peerServer(peer) {
                $0.url = peer.base + "/upstream/dicom-web"
                $0.upstreamTimeoutMS = 1000
            }
            config.outbound.servers["dead"] = peerServer(peer) { $0.url = "http://127.0.0.1:\(closed)/dicom-web/" }
        }
        defer { Task { await tg.stop() } }
        let large = try await tg.send("/proxy/pacs/upload", method: .POST, headers: apiKeyHeader, body: Array(repeating: 1, count: 4096))
        #expect(large.status == 413)
        #expect(large.json["error"] as? String == "PAYLOAD_TOO_LARGE")
        var chunked = HTTPClientRequest(url: tg.base + "/proxy/pacs/upload").with(header: "X-API-Key", testAPIKey)
        chunked.method = .POST
        chunked.body = .stream(ChunkSequence(chunk: ByteBuffer(repeating: 1, count: 1000), count: 4), length: .unknown)
        let overflow = try await tg.client.execute(chunked, timeout: .seconds(10))
        #expect(overflow.status.code == 413)
        let small = try await tg.send("/proxy/pacs/upload", method: .POST, headers: apiKeyHeader, body: Array(repeating: 1, count: 512))
        #expect(small.json["bytes"] as? Int == 512, "\(small.status) \(small.body)")
        let slow = try await tg.get("/proxy/slowpoke/slow", headers: apiKeyHeader)
        #expect(slow.status == 504)
        #expect(slow.json["error"] as? String == "UPSTREAM_ERROR")
        let dead = try await tg.get("/proxy/dead/studies", headers: apiKeyHeader)
        #expect(dead.status == 502)
        #expect(dead.json["error"] as? String == "CONNECTION_FAILED")
        #expect(try await tg.get("/health").status == 200)
    }
}
