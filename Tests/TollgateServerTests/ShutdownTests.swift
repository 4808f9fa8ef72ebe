import AsyncHTTPClient
import Foundation
import Synchronization
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// `tollgate serve` as a real process: SIGTERM lets an in-flight request finish, then exit 0.
@Suite("graceful shutdown")
struct ShutdownTests {
    @Test func sigtermFinishesInFlightRequestsThenExitsZero() async throws {
        let peer = try await PeerServer.start()
        defer { Task { await peer.stop() } }
        let tollgate = try await TollgateProcess.start(
            config: """
                log: {level: info, format: text}
                outbound:
                  servers:
                    slow: {url: "\(peer.upstreamURL)", token_endpoint: "\(peer.tokenURL)", client_id: c, client_secret: s}
                admin: {auth_mode: none}
                """, server: "shutdown_timeout_seconds: 10")
        defer { Task { await tollgate.stop() } }
        let process = tollgate.process

        // A request that takes 2 s upstream, then SIGTERM while it is in flight.
        let inFlight = Task { try await tollgate.status("/proxy/slow/slow") }
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, SIGTERM)
        #expect(try await inFlight.value == 200)

        try await waitUntil(seconds: 15) { !process.isRunning }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    /// The drain: after SIGTERM `/ready` answers 503 at once while requests keep being served for
    /// `server.shutdown_delay_seconds`; a load running through it loses nothing; exit 0. Times are
    /// taken from the signal, so a test process starved by the suites beside it judges only the
    /// requests it really sent inside the delay.
    @Test func sigtermDrainsWithoutFailingARequest() async throws {
        let delay = Duration.seconds(10)
        let tollgate = try await TollgateProcess.start(
            config: """
                dev_issuer: {enabled: true, clients: [{client_id: a, client_secret: b}]}
                inbound: {issuers: [{name: dev, embedded: true, introspection: {client_id: a, client_secret: b}}]}
                """, server: "shutdown_delay_seconds: 10, shutdown_timeout_seconds: 10")
        defer { Task { await tollgate.stop() } }
        let process = tollgate.process
        let stop = StopFlag()
        let signalled = SignalTime()
        let load = (0..<3).map { _ in
            Task { () -> (ok: Int, okDraining: Int, failed: Int) in
                var (ok, okDraining, failed) = (0, 0, 0)
                while !stop.isSet {
                    let sent = ContinuousClock.now
                    let status = try? await tollgate.status("/health")
                    // Only what was sent inside the delay (with a margin) is judged.
                    guard signalled.before(sent + .seconds(2), delay: delay) else {
                        try? await Task.sleep(for: .milliseconds(10))
                        continue
                    }
                    if status == 200 {
                        ok += 1
                        if signalled.isMarked(before: sent) { okDraining += 1 }
                    } else {
                        failed += 1
                    }
                    try? await Task.sleep(for: .milliseconds(10))  // a steady load, not a flood beside the rest of the suite
                }
                return (ok, okDraining, failed)
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        kill(process.processIdentifier, SIGTERM)
        signalled.mark()
        // The signal is handled asynchronously: /ready turns 503 within moments, long before the delay ends.
        var ready: UInt?
        while ready != 503, signalled.before(.now + .seconds(5), delay: delay) {
            ready = try? await tollgate.status("/ready")
            if ready != 503 { try await Task.sleep(for: .milliseconds(20)) }
        }
        try await Task.sleep(for: .seconds(4))
        stop.set()
        var totals = (ok: 0, okDraining: 0, failed: 0)
        for task in load {
            let counts = await task.value
            totals = (totals.ok + counts.ok, totals.okDraining + counts.okDraining, totals.failed + counts.failed)
        }
        #expect(ready == 503, "out of the load balancer at once")
        #expect(totals.failed == 0 && totals.okDraining > 0, "none failed, some served while draining: \(totals)")
        try await waitUntil(seconds: 30) { !process.isRunning }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }
}

/// When SIGTERM was sent, for judging which requests fell inside the drain.
final class SignalTime: Sendable {
    private let at = Mutex<ContinuousClock.Instant?>(nil)
    func mark() { at.withLock { $0 = .now } }
    /// Whether the signal had been sent by `instant`.
    func isMarked(before instant: ContinuousClock.Instant) -> Bool { at.withLock { $0.map { $0 <= instant } ?? false } }
    /// Whether `instant` is before the delay ends (always, before the signal).
    func before(_ instant: ContinuousClock.Instant, delay: Duration) -> Bool {
        at.withLock { $0.map { instant < $0 + delay } ?? true }
    }
}

/// A flag the load tasks read and the test sets.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
