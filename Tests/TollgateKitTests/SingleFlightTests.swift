import Synchronization
import Testing
import TollgateKit

@Suite("single flight")
struct SingleFlightTests {
    /// Work that runs until released, counting how often it was started.
    final class Gate: Sendable {
        private let started = Mutex(0)
        private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])
        var starts: Int { started.withLock { $0 } }

        func work(_ value: Int) async -> Int {
            started.withLock { $0 += 1 }
            await withCheckedContinuation { continuation in waiting.withLock { $0.append(continuation) } }
            return value
        }

        func waitForStarts(_ count: Int) async {
            while started.withLock({ $0 }) < count || waiting.withLock({ $0.count }) < count { await Task.yield() }
        }

        func release() {
            for continuation in waiting.withLock({ list in
                defer { list.removeAll() }; return list
            }) { continuation.resume() }
        }
    }

    @Test func callersOfOneKeyShareOneRunAndOtherKeysRunApart() async {
        let flights = SingleFlight<String, Int>()
        let gate = Gate()
        async let a1 = flights.run("a") { await gate.work(1) }
        await gate.waitForStarts(1)
        async let a2 = flights.run("a") { await gate.work(2) }
        async let b = flights.run("b") { await gate.work(3) }
        await gate.waitForStarts(2)
        while flights.joiners("a") < 1 { await Task.yield() }
        gate.release()
        let (first, second, other) = await (a1, a2, b)
        #expect(first.value == 1 && !first.joined)
        #expect(second.value == 1 && second.joined)
        #expect(other.value == 3 && !other.joined)
        #expect(gate.starts == 2)
    }

    @Test func aCallerAfterTheEndStartsANewRun() async {
        let flights = SingleFlight<Int, Int>()
        let first = await flights.run(0) { 1 }
        #expect(!flights.isRunning(0))
        let second = await flights.run(0) { 2 }
        #expect(first.value == 1 && second.value == 2 && !second.joined)
    }

    @Test func aCancelledWaiterDoesNotCancelTheWork() async {
        let flights = SingleFlight<Int, Bool>()
        let gate = Gate()
        let impatient = Task {
            await flights.run(0) {
                await gate.work(0); return !Task.isCancelled
            }.value
        }
        await gate.waitForStarts(1)
        impatient.cancel()
        let patient = Task { await flights.run(0) { false } }
        while flights.joiners(0) < 1 { await Task.yield() }
        gate.release()
        #expect(await impatient.value == true, "the work saw no cancellation")
        let joined = await patient.value
        #expect(joined.value == true)
    }

    @Test func cancelStopsTheRunAndForgetsIt() async {
        let flights = SingleFlight<Int, Bool>()
        let started = Gate()
        let run = Task {
            await flights.run(0) {
                _ = await started.work(0)
                return Task.isCancelled
            }.value
        }
        await started.waitForStarts(1)
        flights.cancel(0)
        #expect(!flights.isRunning(0))
        started.release()
        #expect(await run.value == true)
    }

    @Test func forgetLetsTheNextCallerStartAnewWhileTheOldRunFinishes() async {
        let flights = SingleFlight<Int, Int>()
        let gate = Gate()
        async let old = flights.run(0) { await gate.work(1) }
        await gate.waitForStarts(1)
        flights.forget(0)
        #expect(await flights.joinRunning(0) == nil)
        let fresh = await flights.run(0) { 2 }
        #expect(fresh.value == 2 && !fresh.joined)
        gate.release()
        #expect(await old.value == 1)
    }
}
