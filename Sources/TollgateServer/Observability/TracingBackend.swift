import Logging
import OTel
import ServiceLifecycle
import TollgateConfiguration
import TollgateKit

/// The OpenTelemetry span exporter behind `tracing:` (OTLP over HTTP, batched), built only when
/// tracing is on. The `OTEL_*` environment wins over `config.yaml`, as the OpenTelemetry spec asks.
struct TracingBackend: Sendable {
    let tracer: TollgateTracer
    let service: any Service

    static func make(config: TracingConfig, environment: [String: String], logger: Logger) throws -> TracingBackend? {
        guard config.isEnabled(environment: environment) else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = config.serviceName
        otel.diagnosticLogger = .custom(logger)
        otel.propagators = [.traceContext]
        otel.metrics.enabled = false
        otel.logs.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = config.endpoint.hasSuffix("/") ? config.endpoint + "v1/traces" : config.endpoint + "/v1/traces"
        otel.traces.otlpExporter.protocol =
            switch config.protocol {
            case .httpProtobuf: .httpProtobuf
            case .httpJSON: .httpJSON
            }
        otel.traces.sampler = .parentBasedTraceIDRatio(ratio: config.sampleRatio) ?? .parentBasedAlwaysOn
        otel.traces.batchSpanProcessor.scheduleDelay = .milliseconds(config.batchDelayMS)
        let (tracer, service) = try OTel.makeTracingBackend(configuration: otel)
        return TracingBackend(tracer: TollgateTracer(tracer), service: service)
    }
}
