import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// An OpenTelemetry collector written in the test: accepts OTLP/HTTP JSON on POST /v1/traces and
/// keeps every span, plus the raw bodies (to search them for secrets).
final class OTLPReceiver: Sendable {
    struct ReceivedSpan: Sendable {
        let traceID: String
        let spanID: String
        let parentSpanID: String
        let name: String
        /// OTLP's SpanKind numbers: 1 internal, 2 server, 3 client.
        let kind: Int
        let attributes: [String: String]
        let isError: Bool
    }

    let server: TestHTTPServer
    let endpoint: String
    private let received = Mutex<(spans: [ReceivedSpan], bodies: [String])>(([], []))

    private init(server: TestHTTPServer, endpoint: String) {
        self.server = server
        self.endpoint = endpoint
    }

    static func start() async throws -> OTLPReceiver {
        let port = try await freePort()
        let router = Router()
        let box = Mutex<OTLPReceiver?>(nil)
        router.post("v1/traces") { request, _ in
            let body = try await request.body.collect(upTo: 16 << 20)
            box.withLock { $0 }?.accept(String(buffer: body))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let receiver = OTLPReceiver(server: try await TestHTTPServer.start(router: router, port: port), endpoint: "http://127.0.0.1:\(port)")
        box.withLock { $0 = receiver }
        return receiver
    }

    func stop() async { await server.stop() }

    var spans: [ReceivedSpan] { received.withLock { $0.spans } }
    var bodies: [String] { received.withLock { $0.bodies } }

    private func accept(_ body: String) {
        let parsed = Self.spans(in: body)
        received.withLock {
            $0.bodies.append(body)
            $0.spans += parsed
        }
    }

    private static func spans(in body: String) -> [ReceivedSpan] {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else { return [] }
        var spans: [ReceivedSpan] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any],
                            let first = value.values.first
                        else { continue }
                        attributes[key] = "\(first)"
                    }
                    let status = span["status"] as? [String: Any]
                    spans.append(
                        ReceivedSpan(
                            traceID: hex(span["traceId"]), spanID: hex(span["spanId"]), parentSpanID: hex(span["parentSpanId"]),
                            name: span["name"] as? String ?? "", kind: span["kind"] as? Int ?? 0, attributes: attributes,
                            isError: (status?["code"] as? Int) == 2
                        ))
                }
            }
        }
        return spans
    }

    /// OTLP/JSON writes ids as hex; a protobuf JSON mapping writes bytes as base64. Either becomes hex.
    private static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if text.utf8.count == 32 || text.utf8.count == 16, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) {
            return text
        }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
