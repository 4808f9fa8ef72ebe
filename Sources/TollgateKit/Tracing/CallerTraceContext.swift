import Tracing
import W3CTraceContext

/// A caller's W3C trace context (`traceparent`, `tracestate`), validated. When Tollgate does not
/// export traces itself it still carries this, unchanged, to its outbound calls, so the IdP's and
/// the peer's logs join the caller's trace.
package struct CallerTraceContext: Sendable {
    /// 32 lowercase hex digits.
    package let traceID: String
    package let traceparent: String
    package let tracestate: String?

    /// nil for anything but a well-formed version-00 `traceparent` with non-zero ids. A malformed
    /// `tracestate` alone is dropped and the `traceparent` kept (W3C Trace Context §3.3.1).
    package init?(traceparent: String?, tracestate: String?) {
        guard let traceparent, traceparent.utf8.count == 55,
            let parsed = try? TraceContext(traceParentHeaderValue: traceparent)
        else { return nil }
        self.traceparent = parsed.traceParentHeaderValue
        traceID = parsed.traceID.description
        if let tracestate, Self.isWellFormed(tracestate: tracestate),
            let state = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)
        {
            self.tracestate = state.traceStateHeaderValue
        } else {
            self.tracestate = nil
        }
    }
}

extension CallerTraceContext {
    /// W3C Trace Context §3.3.1: at most 32 `key=value` members, keys of lowercase letters, digits
    /// and `_-*/` (optionally `tenant@system`), values of printable ASCII without `,` or `=`.
    static func isWellFormed(tracestate: String) -> Bool {
        guard (1...512).contains(tracestate.utf8.count) else { return false }
        let members = tracestate.split(separator: ",", omittingEmptySubsequences: false)
            .map { ASCIIText.trimmingOWS($0) }.filter { !$0.isEmpty }
        guard (1...32).contains(members.count) else { return false }
        return members.allSatisfy { member in
            guard let equals = member.firstIndex(of: "=") else { return false }
            let key = member[..<equals].utf8, value = member[member.index(after: equals)...].utf8
            guard let first = key.first, (first >= 0x61 && first <= 0x7A) || (first >= 0x30 && first <= 0x39), key.count <= 256,
                key.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || "_-*/@".utf8.contains($0) }),
                key.filter({ $0 == UInt8(ascii: "@") }).count <= 1
            else { return false }
            return (1...256).contains(value.count) && value.last != 0x20
                && value.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
        }
    }
}

enum CallerTraceContextKey: InstrumentationContextKey {
    typealias Value = CallerTraceContext
    static let nameOverride: String? = "tollgate-caller-trace"
}

enum TollgateTracerKey: InstrumentationContextKey {
    typealias Value = TollgateTracer
    static let nameOverride: String? = "tollgate-tracer"
}
