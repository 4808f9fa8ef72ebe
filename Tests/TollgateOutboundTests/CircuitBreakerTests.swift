import Testing
@testable import TollgateOutbound
import TollgateKit

@Suite("circuit breaker rules")
struct CircuitBreakerTests {
    @Test func aFailureRatioOpensOnlyOnceEnoughCallsWereSeen() {
        let clock = ManualClock()
        let breaker = CircuitBreaker(
            failureThreshold: 100, openSeconds: 10,
            ratio: .init(ratio: 0.5, windowSeconds: 10, minRequests: 10), clock: clock)
        // Alternating outcomes never make 100 in a row, and 4 failures in 8 calls is under min_requests.
        for _ in 0..<4 { breaker.recordSuccess(); breaker.recordFailure() }
        #expect(breaker.state == .closed)
        breaker.recordSuccess()
        breaker.recordFailure()
        #expect(breaker.state == .open, "5 of 10 calls failed")
        #expect(breaker.permit() != nil)
        clock.advance(by: 10)
        #expect(breaker.permit() == nil)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.permit() == 1, "one probe at a time")
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
    }

    @Test func outcomesOlderThanTheWindowDoNotCount() {
        let clock = ManualClock()
        let breaker = CircuitBreaker(
            failureThreshold: 100, openSeconds: 10,
            ratio: .init(ratio: 0.5, windowSeconds: 5, minRequests: 4), clock: clock)
        for _ in 0..<3 { breaker.recordFailure() }
        clock.advance(by: 6)
        for _ in 0..<3 { breaker.recordSuccess() }
        breaker.recordFailure()
        #expect(breaker.state == .closed, "1 failure in the 4 calls of the last 5 s")
        breaker.recordFailure()
        #expect(breaker.state == .closed, "2 of 5 is under half")
        breaker.recordFailure()
        #expect(breaker.state == .open, "3 of 6")
    }

    @Test func consecutiveFailuresStillOpenWithoutARatioAndAFailedProbeReopens() {
        let clock = ManualClock()
        let breaker = CircuitBreaker(failureThreshold: 2, openSeconds: 5, clock: clock)
        breaker.recordFailure()
        breaker.recordSuccess()
        breaker.recordFailure()
        #expect(breaker.state == .closed)
        breaker.recordFailure()
        #expect(breaker.state == .open)
        clock.advance(by: 5)
        #expect(breaker.permit() == nil)
        breaker.recordFailure()
        #expect(breaker.state == .open)
        #expect((breaker.permit() ?? 0) > 4)
    }
}
