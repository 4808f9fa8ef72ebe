import Synchronization
import UnixSignals
import TollgateConfiguration

/// The audit trail: each event rendered once, then offered to every sink's bounded queue. Which
/// allowed access decisions are kept (`include_allowed`, `exclude_routes`) is decided before an
/// event is built; denials, administrative acts and security events are always kept.
final class AuditTrail: Sendable {
    private let queues: [AuditSinkQueue]
    private let format: AuditFormat
    private let includeAllowed: Double
    private let excludedRoutes: [String]
    private let excludedPrefixes: [String]
    /// `on_failure: deny`: an allowed decision that could not be queued everywhere is refused.
    let deniesUnrecorded: Bool
    private let unreadyAfter: Duration
    private let writers = Mutex<[Task<Void, Never>]>([])
    private let closeDeadline = Mutex<ContinuousClock.Instant?>(nil)

    init(config: AuditConfig, sinks: [any AuditSink], observer: any AuditObserver) {
        queues = sinks.map { AuditSinkQueue(sink: $0, capacity: config.bufferEvents, observer: observer) }
        format = config.format == .fhir ? .fhir : .json
        includeAllowed = config.includeAllowed
        excludedRoutes = config.excludeRoutes.filter { !$0.hasSuffix("*") }
        excludedPrefixes = config.excludeRoutes.filter { $0.hasSuffix("*") }.map { String($0.dropLast()) }
        deniesUnrecorded = config.onFailure == .deny
        unreadyAfter = .seconds(config.unreadyAfterSeconds)
    }

    /// The trail `audit:` describes, with its writers started; nil when it is off.
    static func make(config: AuditConfig, observer: any AuditObserver) throws -> AuditTrail? {
        guard config.enabled else { return nil }
        var sinks: [any AuditSink] = []
        if config.sinks.stdout || config.sinks.isEmpty { sinks.append(StdoutAuditSink()) }
        if let file = config.sinks.file { sinks.append(FileAuditSink(config: file)) }
        if let syslog = config.sinks.syslog { sinks.append(try SyslogAuditSink(config: syslog)) }
        let trail = AuditTrail(config: config, sinks: sinks, observer: observer)
        trail.start()
        return trail
    }

    func start() {
        let tasks = queues.map { queue in Task { [self] in await queue.run(closeDeadline: { self.closeDeadline.withLock { $0 } }) } }
        writers.withLock { $0 = tasks }
    }

    /// Whether an allowed access decision on `path` is recorded (a denial always is).
    func records(allowedAccessOn path: String) -> Bool {
        if excludedRoutes.contains(path) || excludedPrefixes.contains(where: path.hasPrefix) { return false }
        return includeAllowed >= 1 || (includeAllowed > 0 && Double.random(in: 0..<1) < includeAllowed)
    }

    /// Renders and queues `event` for every sink; false when some sink could not take it
    /// (its buffer full, or the trail closing): that loss is counted.
    @discardableResult
    func record(_ event: AuditEvent) -> Bool {
        let record = AuditRecord(event, format: format)
        var all = true
        for queue in queues where !queue.offer(record) { all = false }
        return all
    }

    /// A sink that has failed for longer than `audit.unready_after_seconds`.
    func notReadyReasons() -> [String] {
        let now = ContinuousClock.now
        return queues.compactMap { queue in
            guard let failure = queue.failure(now: now), failure.duration >= unreadyAfter else { return nil }
            return "audit sink \(queue.sink.name): failing for \(failure.duration.components.seconds) s (\(failure.reason)); \(queue.depth) records waiting"
        }
    }

    var depths: () -> [(sink: String, depth: Int)] { { [queues] in queues.map { ($0.sink.name, $0.depth) } } }

    /// After SIGHUP: file sinks reopen their path.
    func reopen() async {
        for queue in queues { await queue.sink.reopen() }
    }

    /// At shutdown: no new records; what is queued is written, giving a failing sink up to
    /// `timeout` before the rest is counted as dropped.
    func close(timeout: Duration = .seconds(5)) async {
        closeDeadline.withLock { $0 = .now + timeout }
        for queue in queues { queue.close() }
        for writer in writers.withLock({ $0 }) { await writer.value }
        for queue in queues { await queue.sink.close() }
    }
}

extension AuditTrail {
    /// Reopens the file sinks at every SIGHUP (logrotate's `postrotate`), until cancelled.
    func reopen(on hangups: UnixSignalsSequence) async {
        for await _ in hangups {
            await reopen()
        }
    }
}
