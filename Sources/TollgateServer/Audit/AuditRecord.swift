/// One rendered audit event, as every sink receives it: the payload line in the configured
/// format and what a syslog header needs.
struct AuditRecord: Sendable {
    /// The event in `audit.format`, ending in a newline.
    let line: [UInt8]
    let time: AuditEvent.Time
    let category: AuditEvent.Category
    /// RFC 5424 severity: 6 informational for an allowed access, 5 notice for a refusal or an
    /// administrative act, 4 warning for a security event.
    let severity: Int

    init(line: [UInt8], time: AuditEvent.Time, category: AuditEvent.Category, severity: Int) {
        self.line = line
        self.time = time
        self.category = category
        self.severity = severity
    }

    init(_ event: AuditEvent, format: AuditFormat) {
        line = format == .fhir ? event.fhirLine() : event.jsonLine()
        time = event.time
        category = event.category
        severity =
            switch (event.category, event.outcome) {
            case (.security, _): 4
            case (.access, .allowed): 6
            default: 5
            }
    }
}

enum AuditFormat: Sendable {
    case json, fhir
}

/// What the trail reports per sink: written, dropped (the buffer was full, or the sink never
/// recovered before shutdown), write failures and the recovery after them.
protocol AuditObserver: Sendable {
    func auditWritten(sink: String, count: Int)
    func auditDropped(sink: String, count: Int)
    /// `reason` is already clean, printable text.
    func auditSinkFailed(sink: String, reason: String)
    func auditSinkRecovered(sink: String)
}

extension AuditObserver {
    func auditSinkRecovered(sink: String) {}
}

/// A place audit records go. `write` reports how many of `records`, from the first, reached it;
/// the rest are offered again after a pause.
protocol AuditSink: Sendable {
    var name: String { get }
    /// Before the first record: open what a write would otherwise open late (a connection), so
    /// the first burst of records does not wait behind a handshake. The reason when it cannot.
    func prepare() async -> String?
    func write(_ records: ArraySlice<AuditRecord>) async -> AuditWriteResult
    /// After SIGHUP: reopen what logrotate may have moved.
    func reopen() async
    func close() async
}

extension AuditSink {
    func prepare() async -> String? { nil }
    func reopen() async {}
    func close() async {}
}

struct AuditWriteResult: Sendable {
    var written: Int
    /// Why the rest could not be written; nil when all were.
    var failure: String?
}
