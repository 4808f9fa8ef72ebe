import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing
@testable import TollgateOutbound

/// The proxy's connection state machine, driven event by event on a testing channel: no socket, no clock.
@Suite("upstream connection states")
struct UpstreamConnectionHandlerTests {
    final class Harness: Sendable {
        let channel = NIOAsyncTestingChannel()
        let handler: UpstreamConnectionHandler
        private let reused = Reuses()
        var reuses: Int { reused.count.withLock { $0 } }

        final class Reuses: Sendable { let count = Mutex(0) }

        init() async throws {
            let counter = reused
            handler = UpstreamConnectionHandler(readTimeout: .seconds(30), idleTimeout: .seconds(60)) { _, _ in counter.count.withLock { $0 += 1 } }
            try await channel.pipeline.addHandler(handler)
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8042))
        }

        func begin() async throws -> EventLoopFuture<UpstreamConnectionHandler.Received> {
            let (handler, loop) = (self.handler, channel.testingEventLoop)
            return try await loop.executeInContext { handler.begin(on: loop) }
        }

        /// An exchange begun and its request head written (and ended, unless it carries a body).
        func exchange(body: Bool = false) async throws -> EventLoopFuture<UpstreamConnectionHandler.Received> {
            let answer = try await begin()
            try await sendRequest(body: body)
            return answer
        }

        /// An exchange whose answer is streaming: its head and `first` arrived in one read.
        func streamingAnswer(first: String) async throws -> UpstreamConnectionHandler.Received {
            let answer = try await exchange()
            try await self.answer(UpstreamConnectionHandlerTests.head(), UpstreamConnectionHandlerTests.body(first))
            try await readComplete()
            return try await answer.get()
        }

        func sendRequest(body: Bool = false) async throws {
            try await channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: body ? .POST : .GET, uri: "/studies")))
            if !body { try await endRequest() }
        }

        func endRequest() async throws { try await channel.writeOutbound(HTTPClientRequestPart.end(nil)) }

        /// Parts that arrive in one read: `readComplete()` ends the read.
        func answer(_ parts: HTTPClientResponsePart...) async throws {
            let pipeline = channel.pipeline
            try await channel.testingEventLoop.executeInContext {
                for part in parts { pipeline.fireChannelRead(NIOAny(part)) }
            }
        }

        func readComplete() async throws {
            let pipeline = channel.pipeline
            try await channel.testingEventLoop.executeInContext { pipeline.fireChannelReadComplete() }
        }

        var phase: String {
            get async throws {
                let handler = self.handler
                return try await channel.testingEventLoop.executeInContext {
                    switch handler.state {
                    case .idle: "idle"
                    case .closed: "closed"
                    case .exchanging(let exchange):
                        switch exchange.answer {
                        case .awaitingHead: "awaitingHead"
                        case .collecting: "collecting"
                        case .streaming: "streaming"
                        case .complete: exchange.requestSent ? "complete" : "answeredEarly"
                        }
                    }
                }
            }
        }
    }

    static func head(_ status: HTTPResponseStatus = .ok, close: Bool = false) -> HTTPClientResponsePart {
        .head(HTTPResponseHead(version: .http1_1, status: status, headers: close ? ["Connection": "close"] : [:]))
    }

    static func body(_ text: String) -> HTTPClientResponsePart { .body(ByteBuffer(string: text)) }

    static func text(_ body: UpstreamResponseBody) async throws -> String {
        var all = ""
        for try await chunk in body { all += String(buffer: chunk) }
        return all
    }

    @Test func aSmallAnswerArrivesWholeAndTheConnectionGoesBack() async throws {
        let h = try await Harness()
        #expect(try await h.phase == "idle")
        let answer = try await h.exchange()
        #expect(try await h.phase == "awaitingHead")
        try await h.answer(Self.head())
        #expect(try await h.phase == "collecting")
        try await h.answer(Self.body("fine"), .end(nil))
        let received = try await answer.get()
        #expect(received.body.wholeBuffer.map { String(buffer: $0) } == "fine")
        #expect(try await h.phase == "idle")
        #expect(h.reuses == 1)
        #expect(h.channel.isActive)
    }

    @Test func anAnswerLongerThanOneReadStreams() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        try await h.answer(Self.head(), Self.body("first "))
        try await h.readComplete()
        #expect(try await h.phase == "streaming")
        let received = try await answer.get()
        #expect(received.body.wholeBuffer == nil)
        try await h.answer(Self.body("second"), .end(nil))
        #expect(try await Self.text(received.body) == "first second")
        #expect(try await h.phase == "idle")
        #expect(h.reuses == 1)
    }

    @Test func moreThanTheWholeAnswerLimitStreamsWithinOneRead() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        try await h.answer(Self.head(), .body(ByteBuffer(repeating: 0x41, count: UpstreamConnectionHandler.wholeAnswerLimit + 1)))
        #expect(try await h.phase == "streaming")
        #expect(try await answer.get().body.wholeBuffer == nil)
    }

    /// A peer may answer (a 413, say) before the request's body is through: the connection is reused
    /// only once both directions are complete.
    @Test func anEarlyAnswerWaitsForTheRequestToEndBeforeReuse() async throws {
        let h = try await Harness()
        let answer = try await h.exchange(body: true)
        try await h.answer(Self.head(.payloadTooLarge), .end(nil))
        #expect(try await answer.get().head.status == .payloadTooLarge)
        #expect(try await h.phase == "answeredEarly")
        #expect(h.reuses == 0)
        try await h.endRequest()
        #expect(try await h.phase == "idle")
        #expect(h.reuses == 1)
    }

    @Test func connectionCloseFromThePeerIsNeverReused() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        try await h.answer(Self.head(close: true), .end(nil))
        _ = try await answer.get()
        #expect(try await h.phase == "closed")
        #expect(h.reuses == 0)
        #expect(!h.channel.isActive)
    }

    @Test func aCloseBeforeTheHeadFailsTheAnswer() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        try await h.channel.close()
        await #expect(throws: UpstreamConnectionError.closed) { try await answer.get() }
        #expect(try await h.phase == "closed")
    }

    @Test func aCloseMidBodyFailsTheBodyNotTheHead() async throws {
        let h = try await Harness()
        let received = try await h.streamingAnswer(first: "part")
        try await h.channel.close()
        await #expect(throws: UpstreamConnectionError.closed) { try await Self.text(received.body) }
        #expect(try await h.phase == "closed")
        #expect(h.reuses == 0)
    }

    /// The caller went away mid-body: the rest of the answer is unwanted, and so is the connection.
    @Test func aConsumerLeavingMidBodyClosesTheConnection() async throws {
        let h = try await Harness()
        let received = try await h.streamingAnswer(first: "part")
        do {
            var iterator = received.body.makeAsyncIterator()
            _ = try await iterator.next()
        }
        try await waitForClose(h)
        #expect(try await h.phase == "closed")
        #expect(h.reuses == 0)
    }

    @Test func bytesNobodyAskedForCloseAnIdleConnection() async throws {
        let h = try await Harness()
        try await h.answer(Self.head())
        #expect(try await h.phase == "closed")
        #expect(!h.channel.isActive)
    }

    @Test func aSecondHeadIsAMalformedAnswer() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        try await h.answer(Self.head(), Self.head())
        await #expect(throws: UpstreamConnectionError.malformedAnswer) { try await answer.get() }
        #expect(!h.channel.isActive)
    }

    @Test func aBusyOrClosedConnectionRefusesAnotherExchange() async throws {
        let h = try await Harness()
        _ = try await h.begin()
        await #expect(throws: UpstreamConnectionError.closed) { try await h.begin().get() }
        try await h.channel.close()
        await #expect(throws: UpstreamConnectionError.closed) { try await h.begin().get() }
    }

    @Test func silenceForTheReadTimeoutFailsTheExchange() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        await h.channel.testingEventLoop.advanceTime(by: .seconds(29))
        #expect(try await h.phase == "awaitingHead")
        try await h.answer(Self.head(), Self.body("x"))
        try await h.readComplete()
        let received = try await answer.get()
        // A read restarts the window: 29 s after it, nothing has fired yet; 31 s after, it has.
        await h.channel.testingEventLoop.advanceTime(by: .seconds(29))
        #expect(try await h.phase == "streaming")
        await h.channel.testingEventLoop.advanceTime(by: .seconds(2))
        await #expect(throws: UpstreamConnectionError.readTimeout) { try await Self.text(received.body) }
        #expect(!h.channel.isActive)
    }

    @Test func anIdlePooledConnectionClosesAfterTheIdleTimeout() async throws {
        let h = try await Harness()
        let answer = try await h.exchange()
        try await h.answer(Self.head(), .end(nil))
        _ = try await answer.get()
        await h.channel.testingEventLoop.advanceTime(by: .seconds(59))
        #expect(h.channel.isActive)
        // Used again before the timer: the idle timer of the earlier rest never fires on the new exchange.
        let second = try await h.exchange()
        await h.channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(try await h.phase == "awaitingHead")
        try await h.answer(Self.head(), .end(nil))
        _ = try await second.get()
        await h.channel.testingEventLoop.advanceTime(by: .seconds(60))
        #expect(try await h.phase == "closed")
        #expect(!h.channel.isActive)
    }

    private func waitForClose(_ h: Harness) async throws {
        for _ in 0..<200 where h.channel.isActive {
            await h.channel.testingEventLoop.run()
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
