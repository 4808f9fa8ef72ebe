import Logging
import Synchronization

/// The metrics observer, plus warnings in the application log when a sink fails or records are
/// dropped: the first failure of each outage, then at most one per sink and kind every 30 s, so a
/// receiver that stays down is seen without flooding the log. The recovery is logged at notice.
final class LoggedAuditObserver: AuditObserver {
    let metrics: any AuditObserver
    let logger: Logger
    let warnings: WarningThrottle
    private let failing = Mutex<Set<String>>([])

    init(metrics: any AuditObserver, logger: Logger, warnings: WarningThrottle = WarningThrottle(interval: 30)) {
        self.metrics = metrics
        self.logger = logger
        self.warnings = warnings
    }

    func auditWritten(sink: String, count: Int) {
        metrics.auditWritten(sink: sink, count: count)
    }

    func auditDropped(sink: String, count: Int) {
        metrics.auditDropped(sink: sink, count: count)
        guard warnings.allows("dropped " + sink) else { return }
        logger.warning(
            "audit records dropped: the sink's buffer is full (audit.buffer_events) or it did not recover before shutdown",
            metadata: ["sink": "\(sink)", "dropped": "\(count)", "counted_in": "tollgate_audit_events_total{outcome=\"dropped\"}"])
    }

    func auditSinkFailed(sink: String, reason: String) {
        metrics.auditSinkFailed(sink: sink, reason: reason)
        let outageStarts = failing.withLock { $0.insert(sink).inserted }
        guard warnings.allows("failed " + sink) || outageStarts else { return }
        logger.warning("audit sink cannot write; records wait in its buffer and are sent again", metadata: ["sink": "\(sink)", "reason": "\(reason)"])
    }

    func auditSinkRecovered(sink: String) {
        metrics.auditSinkRecovered(sink: sink)
        failing.withLock { _ = $0.remove(sink) }
        logger.notice("audit sink writes again", metadata: ["sink": "\(sink)"])
    }
}
