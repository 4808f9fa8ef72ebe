/// Why an exchange on an upstream connection ended without an answer. Each case says whose fault it
/// was, so that only the upstream's own failures count against its breaker.
enum UpstreamConnectionError: Error, Equatable {
    /// The upstream sent nothing for the read timeout.
    case readTimeout
    /// The upstream closed the connection (or it was closed) before the answer was complete.
    case closed
    /// No connection could be opened (refused, unreachable, timed out, TLS handshake refused).
    case connect
    /// The upstream's bytes were not HTTP/1.1 as the decoder reads it.
    case malformedAnswer
    /// The caller's body failed, was cut short or exceeded its limit: the caller's fault, never the upstream's.
    case callerBody
}
