extension TollgateMetrics: AuditObserver {
    func auditWritten(sink: String, count: Int) {
        counter(.auditEvents, [("sink", sink), ("outcome", "written")]).increment(by: Int64(count))
    }

    func auditDropped(sink: String, count: Int) {
        counter(.auditEvents, [("sink", sink), ("outcome", "dropped")]).increment(by: Int64(count))
    }

    /// Records waiting per sink, at scrape.
    func sampleAudit(_ depths: [(sink: String, depth: Int)]) {
        for (sink, depth) in depths { gauge(.auditQueued, [("sink", sink)]).set(Double(depth)) }
    }

    func auditSinkFailed(sink: String, reason: String) {
        counter(.auditSinkFailures, [("sink", sink)]).increment()
    }
}
