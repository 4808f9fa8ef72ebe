import Foundation
import Synchronization
import TollgateConfiguration

/// Records on standard output, one per line, apart from the log (which is on stderr); each line
/// carries `"stream":"audit"` (json) or `"resourceType":"AuditEvent"` (fhir).
struct StdoutAuditSink: AuditSink {
    let name = "stdout"

    func write(_ records: ArraySlice<AuditRecord>) async -> AuditWriteResult {
        DescriptorWriter.write(records, to: 1)
    }
}

/// An append-only file with fixed permissions, reopened on SIGHUP so logrotate can move it.
final class FileAuditSink: AuditSink, Sendable {
    let name = "file"
    private let path: String
    private let permissions: mode_t
    private let descriptor = Mutex<Int32>(-1)

    init(config: AuditFileSinkConfig) {
        path = config.path
        permissions = mode_t(config.permissions ?? 0o600)
    }

    func write(_ records: ArraySlice<AuditRecord>) async -> AuditWriteResult {
        descriptor.withLock { fd in
            if fd < 0 {
                fd = open()
                if fd < 0 { return AuditWriteResult(written: 0, failure: "cannot open \(path): \(String(cString: strerror(errno)))") }
            }
            return DescriptorWriter.write(records, to: fd)
        }
    }

    func reopen() async {
        let fresh = open()
        let old = descriptor.withLock { fd in
            defer { fd = fresh }
            return fd
        }
        if old >= 0 { Foundation.close(old) }
    }

    func close() async {
        let old = descriptor.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        if old >= 0 { Foundation.close(old) }
    }

    /// Opens for appending; a regular file gets the configured permissions (a FIFO or device is left as it is).
    private func open() -> Int32 {
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, permissions)
        guard fd >= 0 else { return -1 }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG { _ = fchmod(fd, permissions) }
        return fd
    }
}

/// Whole lines to a descriptor: a batch in one `write(2)` (an appending write is never interleaved
/// with another on a regular file), the rest again after a short write.
enum DescriptorWriter {
    static func write(_ records: ArraySlice<AuditRecord>, to fd: Int32) -> AuditWriteResult {
        var batch: [UInt8] = []
        batch.reserveCapacity(records.reduce(0) { $0 + $1.line.count })
        for record in records { batch += record.line }
        var offset = 0
        var failure: String?
        batch.withUnsafeBufferPointer { buffer in
            while offset < buffer.count {
                let result = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = "write failed: \(String(cString: strerror(errno)))"
                    return
                }
                offset += result
            }
        }
        // The records whose last byte reached the file.
        var written = 0
        var end = 0
        for record in records {
            end += record.line.count
            guard end <= offset else { break }
            written += 1
        }
        return AuditWriteResult(written: written, failure: failure)
    }
}
