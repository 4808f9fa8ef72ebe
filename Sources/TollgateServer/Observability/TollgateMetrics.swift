import Foundation
package import Prometheus
import Synchronization
import TollgateDevIssuer
package import TollgateInbound
import TollgateKit

/// Every metric Tollgate exports, on a registry owned by one running instance (no global
/// bootstrap). Labels are bounded: result, reason, issuer alias, route template, method, status,
/// server name. A labelled series exists once it has something to say: no walls of zeros.
package final class TollgateMetrics: DecisionRecorder, DecisionCacheObserver, JWKSObserver, Sendable {
    package let registry = PrometheusCollectorRegistry()
    private let cacheHitsCounter: Counter
    private let cacheNegativeHitsCounter: Counter
    private let cacheMissesCounter: Counter
    private let cacheCoalescedCounter: Counter
    private let cacheEvictionsCounter: Counter
    private let cacheEntriesGauge: Gauge
    private let process: (memory: Gauge, cpu: Gauge, openFDs: Gauge, maxFDs: Gauge)
    private let counters = Instruments<Series, Counter>()
    private let gauges = Instruments<Series, Gauge>()
    private let histograms = Instruments<Series, DurationHistogram>()
    private let requestHistograms = Instruments<RequestSeries, DurationHistogram>()
    private let decisionCounters = Instruments<DecisionSeries, Counter>()

    /// One labelled series of a family.
    private struct Series: Hashable {
        let family: String
        let labels: [String]
    }

    /// One request-duration series; a struct key spares building a string on every request.
    private struct RequestSeries: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct DecisionSeries: Hashable {
        let result: String
        let reason: String
        let issuer: String
    }

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
    ]

    package init() {
        let registry = self.registry
        func counter(_ family: MetricFamily) -> Counter { registry.makeCounter(descriptor: Self.descriptor(family)) }
        func gauge(_ family: MetricFamily) -> Gauge { registry.makeGauge(descriptor: Self.descriptor(family)) }
        cacheHitsCounter = counter(.cacheHits)
        cacheNegativeHitsCounter = counter(.cacheNegativeHits)
        cacheMissesCounter = counter(.cacheMisses)
        cacheCoalescedCounter = counter(.cacheCoalesced)
        cacheEvictionsCounter = counter(.cacheEvictions)
        cacheEntriesGauge = gauge(.cacheEntries)
        process = (gauge(.residentMemory), gauge(.cpuSeconds), gauge(.openFDs), gauge(.maxFDs))
        gauge(.startTime).set(Date().timeIntervalSince1970)
        registry.makeGauge(
            descriptor: Self.descriptor(.buildInfo), labels: [("version", TollgateVersion.string), ("revision", Self.revision())]
        ).set(Double(1))
    }

    /// The source revision the deployment names (`TOLLGATE_REVISION`, the image's build argument),
    /// bounded to a commit-id-like token; `unknown` otherwise.
    static func revision(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard let value = environment["TOLLGATE_REVISION"], (1...64).contains(value.utf8.count),
            value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x2E || $0 == 0x2D })
        else { return "unknown" }
        return value
    }

    private static func descriptor(_ family: MetricFamily) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: family.name, unitName: "", helpText: family.help)
    }

    // MARK: DecisionRecorder

    package func record(_ decision: Decision) {
        let (result, reason): (String, String) =
            switch decision.verdict {
            case .allowed: ("allowed", "ok")
            case .denied(let r): ("denied", r.rawValue)
            case .indeterminate(let r): ("indeterminate", r.rawValue)
            }
        let issuer = decision.issuer ?? "none"
        decisionCounters.get(DecisionSeries(result: result, reason: reason, issuer: issuer)) {
            registry.makeCounter(descriptor: Self.descriptor(.decisions), labels: [("result", result), ("reason", reason), ("issuer", issuer)])
        }.increment()
    }

    package func recordIntrospection(issuer: String, outcome: String, seconds: Double) {
        histogram(.introspection, [("issuer", issuer), ("outcome", outcome)]).record(.nanoseconds(Int64(Int(saturating: seconds * 1e9))))
    }

    package func recordUserinfo(issuer: String, outcome: String, seconds: Double) {
        histogram(.userinfo, [("issuer", issuer), ("outcome", outcome)]).record(.nanoseconds(Int64(Int(saturating: seconds * 1e9))))
    }

    // MARK: JWKSObserver

    package func jwksFetched(issuer: String, result: String, keys: Int, at timestamp: Double) {
        counter(.jwksFetches, [("issuer", issuer), ("result", result)]).increment()
        guard keys >= 0 else { return }
        gauge(.jwksKeys, [("issuer", issuer)]).set(Double(keys))
        gauge(.jwksLastSuccess, [("issuer", issuer)]).set(timestamp)
    }

    // MARK: DecisionCacheObserver

    package func cacheHit(negative: Bool) { (negative ? cacheNegativeHitsCounter : cacheHitsCounter).increment() }
    package func cacheMiss() { cacheMissesCounter.increment() }
    package func cacheCoalesced() { cacheCoalescedCounter.increment() }
    package func cacheEvicted(count: Int) { cacheEvictionsCounter.increment(by: Int64(count)) }

    // MARK: HTTP and dev issuer

    func recordRequest(route: String, method: String, status: Int, nanoseconds: Int64) {
        requestHistograms.get(RequestSeries(route: route, method: method, status: status)) {
            registry.makeDurationHistogram(
                descriptor: Self.descriptor(.httpRequests),
                labels: [("route", route), ("method", method), ("status", String(status))],
                buckets: Self.latencyBuckets)
        }.record(.nanoseconds(nanoseconds))
    }

    @Sendable func tlsReloaded(_ succeeded: Bool) {
        counter(.tlsReloads, [("result", succeeded ? "success" : "error")]).increment()
    }

    func recordDevIssuer(_ endpoint: DevIssuerEndpoint) {
        counter(.devIssuerRequests, [("endpoint", endpoint.rawValue)]).increment()
    }

    /// Connections per registry key id, read from the store at scrape.
    /// (Token requests: `TollgateMetrics+Registry`.)
    func sampleRegistry(_ rowsPerKey: [String: Int]) {
        for (keyID, count) in rowsPerKey { gauge(.registryConnections, [("key_id", keyID)]).set(Double(count)) }
    }

    /// The Prometheus text exposition, with the values that change with time alone sampled now.
    func render(cacheEntries: Int) -> [UInt8] {
        cacheEntriesGauge.set(Double(cacheEntries))
        let sample = ProcessSampler.sample()
        if let value = sample.residentBytes { process.memory.set(value) }
        if let value = sample.cpuSeconds { process.cpu.set(value) }
        if let value = sample.openFDs { process.openFDs.set(value) }
        if let value = sample.maxFDs { process.maxFDs.set(value) }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }

    /// Instruments with labels known only at run time, made once and reused.
    func counter(_ family: MetricFamily, _ labels: [(String, String)]) -> Counter {
        counters.get(Series(family: family.name, labels: labels.map(\.1))) {
            registry.makeCounter(descriptor: Self.descriptor(family), labels: labels)
        }
    }

    func gauge(_ family: MetricFamily, _ labels: [(String, String)]) -> Gauge {
        gauges.get(Series(family: family.name, labels: labels.map(\.1))) {
            registry.makeGauge(descriptor: Self.descriptor(family), labels: labels)
        }
    }

    func histogram(_ family: MetricFamily, _ labels: [(String, String)]) -> DurationHistogram {
        histograms.get(Series(family: family.name, labels: labels.map(\.1))) {
            registry.makeDurationHistogram(descriptor: Self.descriptor(family), labels: labels, buckets: Self.latencyBuckets)
        }
    }
}

/// Metric instruments by series, each made on first use and reused after.
private final class Instruments<Key: Hashable & Sendable, Instrument: AnyObject & Sendable>: Sendable {
    private let made = Mutex<[Key: Instrument]>([:])

    func get(_ key: Key, orMake make: () -> Instrument) -> Instrument {
        made.withLock { made in
            if let existing = made[key] { return existing }
            let instrument = make()
            made[key] = instrument
            return instrument
        }
    }
}
