package import Tracing

/// The trace the current task's request belongs to, if any: for error bodies and logs.
package enum CurrentTrace {
    /// 32 lowercase hex digits, or nil outside a traced request.
    package static var id: String? { InstrumentationContext.current?[TraceIDKey.self] }

    /// `context` with the trace id recorded (the server sets it once it knows the id).
    package static func context(_ context: InstrumentationContext, traceID: String) -> InstrumentationContext {
        var context = context
        context[TraceIDKey.self] = traceID
        return context
    }
}

enum TraceIDKey: InstrumentationContextKey {
    typealias Value = String
    static let nameOverride: String? = "tollgate-trace-id"
}
