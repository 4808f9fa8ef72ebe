import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import TollgateServer
import TollgateConfiguration

/// The syslog sink over plain TCP (octet-counted frames) and UDP (a datagram per message), against
/// loopback listeners; TLS is run against rsyslog in the end-to-end suite.
@Suite("audit syslog sink")
struct SyslogSinkTests {
    /// Everything a listener received, as bytes.
    final class Received: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let bytes = Mutex<[UInt8]>([])
        let datagrams = Mutex<[String]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            datagrams.withLock { $0.append(String(buffer: envelope.data)) }
        }
    }

    final class StreamReceived: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLock { $0 += buffer.readableBytesView }
        }
    }

    static func records(_ count: Int) -> [AuditRecord] {
        (0..<count).map { index in
            AuditRecord(
                AuditEvent(category: .access, action: .forwardAuth, outcome: .denied, status: 401, method: "GET", path: "/", requestID: "r\(index)"),
                format: .json)
        }
    }

    /// Splits `LENGTH SP MESSAGE` frames (RFC 6587 §3.4.1).
    static func frames(_ bytes: [UInt8]) -> [String]? {
        var out: [String] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: UInt8(ascii: " ")), let length = Int(String(decoding: rest[..<space], as: UTF8.self)),
                rest.distance(from: space, to: rest.endIndex) > length
            else { return nil }
            let start = rest.index(after: space)
            out.append(String(decoding: rest[start..<rest.index(start, offsetBy: length)], as: UTF8.self))
            rest = rest[rest.index(start, offsetBy: length)...]
        }
        return out
    }

    @Test func tcpFramesAreOctetCountedAndAClosedConnectionIsReopened() async throws {
        let received = StreamReceived()
        let accepted = Mutex<[any Channel]>([])
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(received) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let sink = try SyslogAuditSink(config: AuditSyslogSinkConfig(transport: .tcp, address: "127.0.0.1:\(port)", facility: "local4"))
        #expect(await sink.write(Self.records(3)[...]).written == 3)
        try await waitUntil { Self.frames(received.bytes.withLock { $0 })?.count == 3 }
        let messages = try #require(Self.frames(received.bytes.withLock { $0 }))
        for (index, message) in messages.enumerated() {
            #expect(message.hasPrefix("<165>1 ") && message.contains(" tollgate ") && message.hasSuffix("}"), "local4.notice")
            #expect(message.contains(#""request_id":"r\#(index)""#))
        }
        // The receiver closes the connection: noticed, and the next records go over a new one.
        for channel in accepted.withLock({ $0 }) { try? await channel.close() }
        try await Task.sleep(for: .milliseconds(200))
        #expect(await sink.write(Self.records(2)[...]).written == 2)
        try await waitUntil { Self.frames(received.bytes.withLock { $0 })?.count == 5 }
        #expect(accepted.withLock { $0.count } == 2)
        // No receiver at all: a failure the queue retries, nothing counted as written.
        for channel in accepted.withLock({ $0 }) { try? await channel.close() }
        try await server.close()
        try await Task.sleep(for: .milliseconds(200))
        let refused = await sink.write(Self.records(1)[...])
        #expect(refused.written == 0 && refused.failure != nil)
        await sink.close()
    }

    /// A receiver that accepts and never reads: the write stalls once the socket buffers are full,
    /// and the sink closes the connection after its write timeout instead of waiting forever.
    @Test func aReceiverThatStopsReadingTimesTheWriteOut() async throws {
        let accepted = Mutex<[any Channel]>([])
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 4096)
            .childChannelInitializer { channel in
                accepted.withLock { $0.append(channel) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let sink = try SyslogAuditSink(
            config: AuditSyslogSinkConfig(transport: .tcp, address: "127.0.0.1:\(port)"), writeTimeout: .milliseconds(500))
        #expect(await sink.prepare() == nil)
        try await waitUntil { accepted.withLock { $0.count } == 1 }
        // 16 MB in 64 records: more than the socket buffers hold, without building 40,000 events.
        let large = AuditRecord(
            line: Array(repeating: UInt8(ascii: "x"), count: 256 * 1024) + [UInt8(ascii: "\n")], time: .now(), category: .access, severity: 6)
        let stalled = await sink.write(Array(repeating: large, count: 64)[...])
        #expect(stalled.written == 0)
        #expect(stalled.failure?.contains("no progress in 500 ms; connection closed") == true, "\(stalled.failure ?? "nil")")
        // The next write goes over a new connection.
        #expect(await sink.write(Self.records(1)[...]).written == 1)
        #expect(accepted.withLock { $0.count } == 2)
        await sink.close()
        for channel in accepted.withLock({ $0 }) { try? await channel.close() }
        try await server.close()
    }

    @Test func udpSendsOneDatagramPerMessage() async throws {
        let received = Received()
        let server = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(received) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let sink = try SyslogAuditSink(config: AuditSyslogSinkConfig(transport: .udp, address: "127.0.0.1:\(port)"))
        #expect(await sink.write(Self.records(4)[...]).written == 4)
        try await waitUntil { received.datagrams.withLock { $0.count } == 4 }
        let datagrams = received.datagrams.withLock { $0 }
        #expect(datagrams.allSatisfy { $0.hasPrefix("<85>1 ") && !$0.hasSuffix("\n") }, "authpriv.notice, no framing")
        await sink.close()
        try await server.close()
    }
}
