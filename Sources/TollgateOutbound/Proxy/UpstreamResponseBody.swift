package import NIOCore

/// An upstream answer's body: a small answer that arrived whole, or bytes as the upstream sends
/// them, with back-pressure.
package struct UpstreamResponseBody: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer
    typealias Stream = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, UpstreamConnectionHandler.BodyDelegate
    >

    enum Source: Sendable {
        case whole([ByteBuffer])
        case stream(Stream)
    }

    let source: Source

    static func whole(_ chunks: [ByteBuffer]) -> Self { Self(source: .whole(chunks)) }
    static func stream(_ stream: Stream) -> Self { Self(source: .stream(stream)) }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: IndexingIterator<[ByteBuffer]>?
        var inner: Stream.AsyncIterator?

        package mutating func next() async throws -> ByteBuffer? {
            if chunks != nil { return chunks?.next() }
            return try await inner?.next()
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case .whole(let chunks): AsyncIterator(chunks: chunks.makeIterator(), inner: nil)
        case .stream(let stream): AsyncIterator(chunks: nil, inner: stream.makeAsyncIterator())
        }
    }

    /// The whole answer in one buffer, when it arrived whole.
    package var wholeBuffer: ByteBuffer? {
        guard case .whole(let chunks) = source else { return nil }
        guard chunks.count != 1 else { return chunks[0] }
        var joined = ByteBuffer()
        for var chunk in chunks { joined.writeBuffer(&chunk) }
        return joined
    }

    /// Reads and drops the rest (a 401 answer before a retry), up to `limit` bytes.
    func drain(limit: Int) async {
        var read = 0
        do {
            for try await chunk in self {
                read += chunk.readableBytes
                if read > limit { return }
            }
        } catch {}
    }
}
