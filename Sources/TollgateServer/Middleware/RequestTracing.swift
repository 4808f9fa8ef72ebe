import HTTPTypes
import Hummingbird
import OTel
import TollgateKit
import OTelSemanticConventions
import Tracing

/// How a request joins a trace: under Tollgate's own server span when tracing is on; else, when the
/// caller sent a valid W3C `traceparent`, in the caller's trace, passed through to outbound calls
/// unchanged; else not at all, for the cost of one header lookup.
struct RequestTracing: Sendable {
    let tracer: TollgateTracer?
    /// `url.scheme` of the server spans: `https` when `server.tls` is set.
    var scheme = "http"

    struct Trace {
        let context: InstrumentationContext
        let id: String
        let span: (any Span)?

        /// Names the server span by route template (never the path as sent) and ends it.
        func end(method: String, route: String?, status: Int) {
            guard let span else { return }
            span.operationName = route.map { "\(method) \($0)" } ?? method
            span.updateAttributes { attributes in
                if let route { attributes[OTelAttribute.http.route] = route }
                attributes[OTelAttribute.http.response.statusCode] = status
            }
            if status >= 500 {
                // OpenTelemetry's HTTP server conventions: a 5xx is an error, its type the status code.
                span.attributes[OTelAttribute.error.type] = String(status)
                span.setStatus(SpanStatus(code: .error))
            }
            span.end()
        }
    }

    static let untracedProbes: Set<String> = ["/health", "/ready", "/metrics"]

    func begin(_ request: Request, requestID: String) -> Trace? {
        let traceparent = request.headers[.traceparent]
        guard let tracer else {
            guard traceparent != nil,
                let caller = CallerTraceContext(traceparent: traceparent, tracestate: request.headers[.tracestate])
            else { return nil }
            return Trace(context: CurrentTrace.context(CallerTrace.context(caller), traceID: caller.traceID), id: caller.traceID, span: nil)
        }
        // Kubernetes probes and scrapes would be most of the traces and tell nothing; asked inside a trace, they are traced.
        if traceparent == nil, Self.untracedProbes.contains(request.uri.path) { return nil }
        let parent = tracer.extract(traceparent: traceparent, tracestate: request.headers[.tracestate])
        let span = tracer.startSpan(request.method.rawValue, context: parent, kind: .server)
        // Sampled out with a constant sampler: no span context, so no trace to report.
        guard let traceID = span.context.otelTraceID else {
            span.end()
            return nil
        }
        span.updateAttributes { attributes in
            attributes[OTelAttribute.http.request.method] = request.method.rawValue
            // The path without its query (a query may carry a token), bounded and printable.
            attributes[OTelAttribute.url.path] = PrintableText.clean(request.uri.path, limit: 512)
            attributes[OTelAttribute.url.scheme] = scheme
            attributes["tollgate.request_id"] = requestID
        }
        return Trace(context: CurrentTrace.context(span.context, traceID: traceID), id: traceID, span: span)
    }
}

extension HTTPField.Name {
    static let traceparent = Self("traceparent")!
    static let tracestate = Self("tracestate")!
    static let xTraceID = Self("X-Trace-Id")!
}
