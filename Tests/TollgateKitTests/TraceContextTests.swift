import NIOHTTP1
import Testing
import Tracing
@testable import TollgateKit

@Suite("W3C trace context")
struct TraceContextTests {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    let span = "00f067aa0ba902b7"

    @Test func acceptsOnlyWellFormedVersion00Traceparents() {
        let good = CallerTraceContext(traceparent: "00-\(trace)-\(span)-01", tracestate: "a=1")
        #expect(good?.traceID == trace)
        #expect(good?.traceparent == "00-\(trace)-\(span)-01")
        #expect(good?.tracestate == "a=1")
        for bad in [
            nil, "", "00-\(trace)-\(span)", "01-\(trace)-\(span)-01", "ff-\(trace)-\(span)-01",
            "00-\(String(repeating: "0", count: 32))-\(span)-01", "00-\(trace)-0000000000000000-01",
            "00-\(trace)-\(span)-zz", "00_\(trace)-\(span)-01", "00-\(trace)-\(span)-01-extra",
            "00-\(String(trace.dropLast()))g-\(span)-01",
        ] {
            #expect(CallerTraceContext(traceparent: bad, tracestate: nil) == nil, "\(bad ?? "nil")")
        }
    }

    @Test func aBadTracestateIsDroppedAndTheTraceparentKept() {
        for state in ["=novendor", "a=1,=2", String(repeating: "k=v,", count: 200)] {
            let context = CallerTraceContext(traceparent: "00-\(trace)-\(span)-01", tracestate: state)
            #expect(context?.traceID == trace)
            #expect(context?.tracestate == nil, "\(state.prefix(20))")
        }
    }

    @Test func outboundCallsCarryThePassedThroughContextOnlyInsideIt() async {
        var headers = HTTPHeaders()
        _ = OutboundCallSpan.start("token", method: "POST", url: "http://idp/token", headers: &headers)
        #expect(headers["traceparent"].isEmpty, "outside a traced request nothing is added")
        let caller = CallerTraceContext(traceparent: "00-\(trace)-\(span)-01", tracestate: "a=1")!
        await InstrumentationContext.$current.withValue(CallerTrace.context(caller)) {
            var inside = HTTPHeaders([("traceparent", "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-00")])
            let call = OutboundCallSpan.start("token", method: "POST", url: "http://idp/token", headers: &inside)
            call.end(status: 200)
            #expect(inside["traceparent"] == ["00-\(trace)-\(span)-01"], "replaced, never doubled")
            #expect(inside["tracestate"] == ["a=1"])
        }
    }

    @Test func spanURLsLoseQueryFragmentAndUserinfo() {
        #expect(TraceURL.withoutQuery("https://user:pw@pacs.example:8443/dicom-web/studies?PatientID=X#f") == "https://pacs.example:8443/dicom-web/studies")
        #expect(TraceURL.withoutQuery("http://idp/token") == "http://idp/token")
        #expect(TraceURL.hostAndPort("https://user:pw@pacs.example:8443/x?q")! == ("pacs.example", 8443))
        #expect(TraceURL.hostAndPort("http://[::1]:9000/x")! == ("::1", 9000))
        // An implicit port is the scheme's: OpenTelemetry wants server.port whenever it is known.
        #expect(TraceURL.hostAndPort("http://idp/x")! == ("idp", 80))
        #expect(TraceURL.hostAndPort("https://login.microsoftonline.com/t/oauth2/v2.0/token")! == ("login.microsoftonline.com", 443))
        #expect(TraceURL.hostAndPort("https://[2001:db8::1]/x")! == ("2001:db8::1", 443))
    }
}
