import CoreMetrics
import Foundation
import Prometheus
import Synchronization
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// Every metric Tollgate exports, on a registry owned by one running instance (no global
/// bootstrap). Labels are bounded: result, reason, issuer alias, route template, method, status.
public final class TollgateMetrics: DecisionRecorder, DecisionCacheObserver, JWKSObserver, Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let decisions: [String: CoreMetrics.Counter]
    private let cacheHitsCounter: CoreMetrics.Counter
    private let cacheNegativeHitsCounter: CoreMetrics.Counter
    private let cacheMissesCounter: CoreMetrics.Counter
    private let cacheCoalescedCounter: CoreMetrics.Counter
    private let cacheEvictionsCounter: CoreMetrics.Counter
    private let devIssuerRequests: [DevIssuerEndpoint: CoreMetrics.Counter]
    private let timers = Instruments<String, CoreMetrics.Timer>()
    private let counters = Instruments<String, CoreMetrics.Counter>()
    private let gauges = Instruments<String, CoreMetrics.Gauge>()
    private let requestTimers = Instruments<RequestSeries, CoreMetrics.Timer>()

    /// One request-duration series; a struct key spares building a string on every request.
    private struct RequestSeries: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
    ]

    public init(issuerNames: [String]) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
        var decisions: [String: CoreMetrics.Counter] = [:]
        let results: [(String, [String])] = [
            ("allowed", ["ok"]),
            ("denied", DenialReason.allCases.map(\.rawValue)),
            ("indeterminate", IndeterminateReason.allCases.map(\.rawValue)),
        ]
        for issuer in issuerNames + ["none"] {
            for (result, reasons) in results {
                for reason in reasons {
                    decisions[Self.decisionKey(result, reason, issuer)] = CoreMetrics.Counter(
                        label: "tollgate_decisions_total",
                        dimensions: [("result", result), ("reason", reason), ("issuer", issuer)],
                        factory: factory
                    )
                }
            }
        }
        self.decisions = decisions
        cacheHitsCounter = CoreMetrics.Counter(label: "tollgate_cache_hits_total", factory: factory)
        cacheNegativeHitsCounter = CoreMetrics.Counter(label: "tollgate_cache_negative_hits_total", factory: factory)
        cacheMissesCounter = CoreMetrics.Counter(label: "tollgate_cache_misses_total", factory: factory)
        cacheCoalescedCounter = CoreMetrics.Counter(label: "tollgate_cache_coalesced_total", factory: factory)
        cacheEvictionsCounter = CoreMetrics.Counter(label: "tollgate_cache_evictions_total", factory: factory)
        devIssuerRequests = Dictionary(uniqueKeysWithValues: DevIssuerEndpoint.allCases.map {
            ($0, CoreMetrics.Counter(label: "tollgate_dev_issuer_requests_total", dimensions: [("endpoint", $0.rawValue)], factory: factory))
        })
    }

    private static func decisionKey(_ result: String, _ reason: String, _ issuer: String) -> String {
        result + "|" + reason + "|" + issuer
    }

    // MARK: DecisionRecorder

    public func record(_ decision: Decision) {
        let (result, reason): (String, String) = switch decision.verdict {
        case .allowed: ("allowed", "ok")
        case .denied(let r): ("denied", r.rawValue)
        case .indeterminate(let r): ("indeterminate", r.rawValue)
        }
        decisions[Self.decisionKey(result, reason, decision.issuer ?? "none")]?.increment()
    }

    public func recordIntrospection(issuer: String, outcome: String, seconds: Double) {
        timer("tollgate_introspection_duration_seconds", [("issuer", issuer), ("outcome", outcome)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    // MARK: JWKSObserver

    public func jwksFetched(issuer: String, result: String, keys: Int, at timestamp: Double) {
        counter("tollgate_jwks_fetches_total", [("issuer", issuer), ("result", result)]).increment()
        guard keys >= 0 else { return }
        gauge("tollgate_jwks_keys", [("issuer", issuer)]).record(keys)
        gauge("tollgate_jwks_last_success_timestamp_seconds", [("issuer", issuer)]).record(timestamp)
    }

    // MARK: DecisionCacheObserver

    public func cacheHit(negative: Bool) { (negative ? cacheNegativeHitsCounter : cacheHitsCounter).increment() }
    public func cacheMiss() { cacheMissesCounter.increment() }
    public func cacheCoalesced() { cacheCoalescedCounter.increment() }
    public func cacheEvicted(count: Int) { cacheEvictionsCounter.increment(by: count) }

    // MARK: HTTP and dev issuer

    func recordRequest(route: String, method: String, status: Int, nanoseconds: Int64) {
        requestTimers.get(RequestSeries(route: route, method: method, status: status)) {
            CoreMetrics.Timer(
                label: "tollgate_http_request_duration_seconds",
                dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory
            )
        }.recordNanoseconds(nanoseconds)
    }

    func recordDevIssuer(_ endpoint: DevIssuerEndpoint) { devIssuerRequests[endpoint]?.increment() }

    /// The Prometheus text exposition, with the cache size sampled now.
    func render(cacheEntries: Int) -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        out.append(contentsOf: Array("# TYPE tollgate_cache_entries gauge\ntollgate_cache_entries \(cacheEntries)\n".utf8))
        return out
    }

    /// Instruments with labels known only at run time, made once and reused.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        counters.get(Self.seriesKey(label, dimensions)) { CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory) }
    }

    func gauge(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Gauge {
        gauges.get(Self.seriesKey(label, dimensions)) { CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory) }
    }

    func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        timers.get(Self.seriesKey(label, dimensions)) { CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory) }
    }

    private static func seriesKey(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.map { "|" + $0.1 }.joined()
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
