/// `tracing:` — OpenTelemetry span export over OTLP/HTTP. The standard `OTEL_*` variables
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `…_PROTOCOL`, `…_HEADERS`,
/// `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_*`, `OTEL_SDK_DISABLED`) win over
/// these keys. A caller's `traceparent` is carried to outbound calls whether or not this is on.
package struct TracingConfig: Sendable, Decodable {
    package enum ExportProtocol: String, ConfigEnum {
        case httpProtobuf = "http/protobuf"
        case httpJSON = "http/json"
    }

    /// Absent: on exactly when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// is set (the seed's "requires OTEL_EXPORTER_OTLP_ENDPOINT"). `false` keeps it off regardless.
    package var enabled: Bool?
    /// The collector's OTLP/HTTP base URL; `/v1/traces` is appended.
    package var endpoint: String = "http://localhost:4318"
    package var `protocol`: ExportProtocol = .httpProtobuf
    package var serviceName: String = "tollgate"
    /// Share of new traces recorded (parent-based: a caller's sampled flag is followed).
    package var sampleRatio: Double = 1.0
    /// How long finished spans wait to be sent in a batch.
    package var batchDelayMS: Int = 5000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, endpoint, `protocol`
        case serviceName = "service_name"
        case sampleRatio = "sample_ratio"
        case batchDelayMS = "batch_delay_ms"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decodeOptional(.enabled)
        endpoint = try c.decode(.endpoint, default: endpoint)
        `protocol` = try c.decode(.protocol, default: `protocol`)
        serviceName = try c.decode(.serviceName, default: serviceName)
        sampleRatio = try c.decode(.sampleRatio, default: sampleRatio)
        batchDelayMS = try c.decode(.batchDelayMS, default: batchDelayMS)
    }

    /// Whether spans are exported, given the process environment (`OTEL_*` variables).
    package func isEnabled(environment: [String: String]) -> Bool {
        let endpointSet = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].contains { !(environment[$0] ?? "").isEmpty }
        guard enabled ?? endpointSet else { return false }
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        if environment["OTEL_TRACES_EXPORTER"]?.lowercased() == "none" { return false }
        return true
    }
}
