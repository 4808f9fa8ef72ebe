import NIOCore
import NIOHTTP1

/// Where one keep-alive upstream connection is, as a single value: every event the handler sees
/// moves it from one case to the next, and anything that does not fit a case closes the connection.
enum UpstreamExchangeState {
    /// Between exchanges: in the pool or about to be, its idle timer running.
    case idle
    /// An exchange: the request going out and the answer coming in, each at its own pace.
    case exchanging(Exchange)
    /// Closed, or failed and closing: never used again.
    case closed

    struct Exchange {
        var answer: Answer
        /// The request's `end` has been written.
        var requestSent = false
        /// The answer's head allows the connection to be kept.
        var keepAlive = true
    }

    enum Answer {
        /// Nothing of the answer yet.
        case awaitingHead(EventLoopPromise<UpstreamConnectionHandler.Received>)
        /// The head and the first bytes, while they may still turn out to be the whole answer.
        case collecting(EventLoopPromise<UpstreamConnectionHandler.Received>, HTTPResponseHead, [ByteBuffer])
        /// The body streams to whoever holds the answer, with back-pressure.
        case streaming(UpstreamConnectionHandler.BodySource)
        /// The answer's `end` has been read.
        case complete
    }
}
