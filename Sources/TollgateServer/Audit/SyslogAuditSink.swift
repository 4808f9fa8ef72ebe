import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import TollgateConfiguration
import TollgateKit

/// RFC 5424 messages to a syslog receiver: one datagram each over UDP (RFC 5426), octet-counted
/// frames over TCP (RFC 6587) or TLS (RFC 5425). The connection opens at start-up, before the
/// first record. One the receiver closed is noticed when it closes (the channel goes inactive), and
/// one where a write does not complete within `writeTimeout` (a receiver that stopped reading, a
/// handshake that never ends) is closed; either way the records wait in the queue for a new one.
final class SyslogAuditSink: AuditSink, Sendable {
    let name = "syslog"
    private let transport: AuditSyslogSinkConfig.Transport
    private let host: String
    private let port: Int
    private let tls: NIOSSLContext?
    private let serverHostname: String?
    private let header: SyslogHeader
    private let channel = Mutex<(any Channel)?>(nil)
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    private let writeTimeout: TimeAmount

    init(config: AuditSyslogSinkConfig, writeTimeout: TimeAmount = .seconds(10)) throws {
        self.writeTimeout = writeTimeout
        guard let endpoint = config.endpoint else { throw AuditSetupError("audit.sinks.syslog.address is not host:port") }
        transport = config.transport
        host = endpoint.host
        port = endpoint.port
        header = SyslogHeader(facility: AuditSyslogSinkConfig.facilities[config.facility] ?? 10, appName: config.appName)
        if config.transport == .tls {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.minimumTLSVersion = .tlsv12
            if let caFile = config.caFile { tlsConfiguration.trustRoots = .file(caFile) }
            if let certFile = config.certFile, let keyFile = config.keyFile {
                tlsConfiguration.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
                tlsConfiguration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
            tls = try NIOSSLContext(configuration: tlsConfiguration)
            // An IP address is checked against the certificate's IP entries (it cannot be sent as SNI).
            serverHostname = config.serverName ?? (Self.isIPAddress(endpoint.host) ? nil : endpoint.host)
        } else {
            tls = nil
            serverHostname = nil
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    func prepare() async -> String? {
        do {
            _ = try await connected()
            return nil
        } catch {
            return unreachable(error)
        }
    }

    private func unreachable(_ error: any Error) -> String {
        "cannot reach the syslog receiver at \(host):\(port): \(error)"
    }

    func write(_ records: ArraySlice<AuditRecord>) async -> AuditWriteResult {
        let channel: any Channel
        do {
            channel = try await connected()
        } catch {
            return AuditWriteResult(written: 0, failure: unreachable(error))
        }
        if transport == .udp {
            // One datagram per message (RFC 5426).
            let writes = records.map { record in
                var buffer = channel.allocator.buffer(capacity: record.line.count + 160)
                header.frame(record, octetCounted: false, into: &buffer)
                return channel.write(buffer)
            }
            channel.flush()
            var written = 0
            for write in writes {
                do {
                    try await completed(write, on: channel)
                    written += 1
                } catch {
                    return AuditWriteResult(written: written, failure: refused(error, on: channel))
                }
            }
            return AuditWriteResult(written: written, failure: nil)
        }
        // The batch in one write: as few TLS records as the size allows. rsyslog's GnuTLS reader
        // takes one record per socket wake-up, and records left behind in its buffer wait for the
        // next data to arrive (rsyslog issue 1533).
        var buffer = channel.allocator.buffer(capacity: records.reduce(0) { $0 + $1.line.count + 170 })
        for record in records { header.frame(record, octetCounted: true, into: &buffer) }
        do {
            try await completed(channel.writeAndFlush(buffer), on: channel)
            return AuditWriteResult(written: records.count, failure: nil)
        } catch {
            // Whether any of it arrived is unknown: the whole batch is sent again (at least once).
            return AuditWriteResult(written: 0, failure: refused(error, on: channel))
        }
    }

    /// Waits for `write`; past `writeTimeout` the channel is closed, which fails the write.
    private func completed(_ write: EventLoopFuture<Void>, on channel: any Channel) async throws {
        let deadline = NIODeadline.now() + writeTimeout
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        do {
            try await write.get()
        } catch  where NIODeadline.now() >= deadline {
            throw WriteTimedOut(after: writeTimeout)
        }
    }

    /// Forgets the connection a write failed on, and says why.
    private func refused(_ error: any Error, on channel: any Channel) -> String {
        drop(channel)
        return "the syslog receiver at \(host):\(port) did not take a write: \(error)"
    }

    private struct WriteTimedOut: Error, CustomStringConvertible {
        let after: TimeAmount
        var description: String { "no progress in \(after.nanoseconds / 1_000_000) ms; connection closed" }
    }

    func close() async {
        let open = channel.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await open?.close()
    }

    /// The open connection, or a new one (the receiver closed the last one, or it never opened).
    private func connected() async throws -> any Channel {
        if let open = channel.withLock({ $0 }), open.isActive { return open }
        let fresh: any Channel
        switch transport {
        case .udp:
            fresh = try await DatagramBootstrap(group: group).connect(host: host, port: port).get()
        case .tcp, .tls:
            let tls = self.tls
            let serverHostname = self.serverHostname
            fresh = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { channel in
                    guard let tls else { return channel.eventLoop.makeSucceededVoidFuture() }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                }
                .connect(host: host, port: port).get()
        }
        let replaced = channel.withLock { channel in
            defer { channel = fresh }
            return channel
        }
        try? await replaced?.close()
        return fresh
    }

    private func drop(_ broken: any Channel) {
        channel.withLock { channel in
            if channel === broken { channel = nil }
        }
        broken.close(promise: nil)
    }
}

/// The RFC 5424 header every message carries: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID -`.
struct SyslogHeader: Sendable {
    let facility: Int
    let appName: String
    let hostname: String
    let processID: String

    init(facility: Int, appName: String, hostname: String = SyslogHeader.localHostname(), processID: Int32 = getpid()) {
        self.facility = facility
        self.appName = appName
        self.hostname = hostname
        self.processID = String(processID)
    }

    /// The message for `record`: the payload without its newline, behind `LENGTH SP` when octet-counted.
    func message(_ record: AuditRecord) -> [UInt8] {
        var out = TextBuffer(capacity: record.line.count + 160)
        out.append(byte: UInt8(ascii: "<"))
        out.append(facility * 8 + record.severity)
        out.append(bytes: ">1 ")
        out.appendTimestamp(seconds: record.time.seconds, milliseconds: record.time.milliseconds)
        out.append(byte: UInt8(ascii: " "))
        out.append(hostname)
        out.append(byte: UInt8(ascii: " "))
        out.append(appName)
        out.append(byte: UInt8(ascii: " "))
        out.append(processID)
        out.append(byte: UInt8(ascii: " "))
        out.append(record.category.rawValue)
        out.append(bytes: " - ")
        var bytes = out.bytes
        bytes.append(contentsOf: record.line.last == UInt8(ascii: "\n") ? record.line.dropLast() : record.line[...])
        return bytes
    }

    func frame(_ record: AuditRecord, octetCounted: Bool, into buffer: inout ByteBuffer) {
        let message = message(record)
        if octetCounted {
            buffer.writeString(String(message.count))
            buffer.writeInteger(UInt8(ascii: " "))
        }
        buffer.writeBytes(message)
    }

    /// The host's name as RFC 5424 allows it (printable ASCII, at most 255), or `-`.
    static func localHostname() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "-" }
        let text = PrintableText.clean(String(cString: name), limit: 255).replacingOccurrences(of: " ", with: "")
        return text.isEmpty ? "-" : text
    }
}

struct AuditSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
