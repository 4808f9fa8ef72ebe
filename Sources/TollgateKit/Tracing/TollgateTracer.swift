import NIOHTTP1
package import Tracing

/// The tracer Tollgate exports spans to, when tracing is on. It travels in the task-local
/// `InstrumentationContext` (set per request by the server, and around background work), so every
/// outbound call finds it without being handed it; with tracing off nothing is set and every
/// tracing call is one task-local read.
package struct TollgateTracer: Sendable {
    let tracer: any Tracer

    package init(_ tracer: any Tracer) {
        self.tracer = tracer
    }

    /// The tracer of the current task, if tracing is on.
    static var current: TollgateTracer? { InstrumentationContext.current?[TollgateTracerKey.self] }

    /// A context that carries this tracer, below `parent`.
    package func context(below parent: InstrumentationContext = .topLevel) -> InstrumentationContext {
        var context = parent
        context[TollgateTracerKey.self] = self
        return context
    }

    /// The caller's trace context, read from request headers, as the parent of Tollgate's spans.
    package func extract(traceparent: String?, tracestate: String?) -> InstrumentationContext {
        var context = self.context()
        guard let caller = CallerTraceContext(traceparent: traceparent, tracestate: tracestate) else { return context }
        var carrier = ["traceparent": caller.traceparent]
        if let state = caller.tracestate { carrier["tracestate"] = state }
        tracer.extract(carrier, into: &context, using: DictionaryExtractor())
        return context
    }

    package func startSpan(_ name: String, context: InstrumentationContext, kind: SpanKind) -> any Span {
        tracer.startSpan(name, context: context, ofKind: kind)
    }
}

/// Pass-through of a caller's trace context when Tollgate itself does not trace.
package enum CallerTrace {
    package static func context(_ caller: CallerTraceContext) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        context[CallerTraceContextKey.self] = caller
        return context
    }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
