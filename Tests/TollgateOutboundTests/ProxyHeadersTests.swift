import NIOHTTP1
import Testing
@testable import TollgateOutbound

@Suite("proxy headers")
struct ProxyHeadersTests {
    @Test func upstreamConnectionHeaderDropsEveryHeaderItNames() {
        let upstream = HTTPHeaders([
            ("Connection", "keep-alive, X-Hop-A ,\tx-hop-b"), ("X-Hop-A", "1"), ("X-Hop-B", "2"), ("Keep-Alive", "timeout=5"),
            ("Set-Cookie", "s=1"), ("Content-Type", "application/dicom+json"), ("ETag", "\"v1\""),
        ])
        let names = ProxyHeaders.callerResponseHeaders(from: upstream).map { $0.name.canonicalName }
        #expect(names == ["content-type", "etag"])
    }
}
