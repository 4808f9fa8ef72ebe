package import NIOHTTP1
import OTelSemanticConventions
package import Tracing

/// One outbound HTTP call in the current trace: a client span when Tollgate traces, and the
/// `traceparent`/`tracestate` headers it sends (its own span as parent, or the caller's context
/// passed through unchanged). Attributes follow OpenTelemetry's HTTP client conventions; the URL
/// loses its query and userinfo, so no token, secret or search term reaches a span.
package struct OutboundCallSpan: Sendable {
    private let span: (any Span)?

    /// `call` names the purpose: introspection, jwks, userinfo, discovery, token, orthanc_push, proxy.
    package static func start(_ call: String, method: String, url: String, headers: inout HTTPHeaders) -> OutboundCallSpan {
        guard let context = InstrumentationContext.current else { return OutboundCallSpan(span: nil) }
        guard let tracer = context[TollgateTracerKey.self] else {
            if let caller = context[CallerTraceContextKey.self] {
                headers.replaceOrAdd(name: "traceparent", value: caller.traceparent)
                if let state = caller.tracestate { headers.replaceOrAdd(name: "tracestate", value: state) } else { headers.remove(name: "tracestate") }
            }
            return OutboundCallSpan(span: nil)
        }
        let span = tracer.tracer.startSpan("\(method) \(call)", context: context, ofKind: .client)
        span.updateAttributes { attributes in
            attributes["tollgate.call"] = call
            attributes[OTelAttribute.http.request.method] = method
            attributes[OTelAttribute.url.full] = TraceURL.withoutQuery(url)
            if let (host, port) = TraceURL.hostAndPort(url) {
                attributes[OTelAttribute.server.address] = host
                if let port { attributes[OTelAttribute.server.port] = port }
            }
        }
        headers.remove(name: "tracestate")
        tracer.tracer.inject(span.context, into: &headers, using: HTTPHeadersInjector())
        return OutboundCallSpan(span: span)
    }

    /// The peer answered (any status); 5xx marks the span as an error, as the conventions say.
    package func end(status: Int) {
        guard let span else { return }
        span.attributes[OTelAttribute.http.response.statusCode] = status
        if status >= 500 {
            span.attributes[OTelAttribute.error.type] = String(status)
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }

    /// No answer: `kind` is a bounded label (timeout, unreachable, unreadable, circuit_open, …).
    package func end(failure kind: String) {
        guard let span else { return }
        span.attributes[OTelAttribute.error.type] = kind
        span.setStatus(SpanStatus(code: .error))
        span.end()
    }
}

/// Spans Tollgate makes around its own work (the decision), in the current trace.
package enum InternalSpan {
    /// nil when tracing is off: callers skip all attribute work then.
    package static func start(_ name: String) -> (any Span)? {
        guard let context = InstrumentationContext.current, let tracer = context[TollgateTracerKey.self] else { return nil }
        return tracer.tracer.startSpan(name, context: context, ofKind: .internal)
    }
}

enum TraceURL {
    static func withoutQuery(_ url: String) -> String {
        var text = Substring(url)
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
        // Drop any userinfo ("user:password@") from the authority.
        if let schemeEnd = text.range(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
            if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
                return String(text[..<authorityStart]) + String(text[text.index(after: at)...])
            }
        }
        return String(text)
    }

    /// The host and port a URL reaches; an implicit port is the scheme's (80, 443), since OpenTelemetry
    /// wants `server.port` whenever it is known.
    static func hostAndPort(_ url: String) -> (String, Int?)? {
        let text = withoutQuery(url)
        guard let schemeEnd = text.range(of: "://") else { return nil }
        let implicit: Int? =
            switch text[..<schemeEnd.lowerBound].lowercased() {
            case "http": 80
            case "https": 443
            default: nil
            }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            return (host, after.hasPrefix(":") ? Int(after.dropFirst()) : implicit)
        }
        if let colon = authority.lastIndex(of: ":") {
            return (String(authority[..<colon]), Int(authority[authority.index(after: colon)...]))
        }
        return (String(authority), implicit)
    }
}
