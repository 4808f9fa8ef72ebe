import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TollgateKit

/// The connection API of a running Tollgate, as `tollgate connections` calls it.
struct ConnectionsClient {
    let base: String
    let prefix: String
    let headers: [(String, String)]

    struct Answer {
        let status: Int
        let body: Data
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func send(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: base + prefix + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw Failure(description: "cannot reach Tollgate at \(base): \(error)")
        }
        let body = try await response.body.collect(upTo: 8 << 20)
        let answer = Answer(status: Int(response.status.code), body: Data(buffer: body))
        guard (200..<300).contains(answer.status) else {
            let object = answer.object
            let code = object["error"] as? String ?? "HTTP \(answer.status)"
            var text = code + ((object["message"] as? String).map { ": " + $0 } ?? "")
            if let status = object["status"] as? String { text += " (status \(status))" }
            throw Failure(description: PrintableText.clean(text, limit: 512))
        }
        return answer
    }

    /// `name` for a path: connection names are identifiers, anything else is refused here.
    static func pathSegment(_ name: String) throws -> String {
        guard !name.isEmpty,
            name.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else {
            throw Failure(description: "a connection name is 1–64 of A–Z, a–z, 0–9, - and _")
        }
        return name
    }
}

/// Plain-text output: aligned columns, and `key: value` lines for one object.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func fields(_ object: [String: Any]) -> String {
        object.keys.sorted().map { key in "\(key): \(text(object[key]))" }.joined(separator: "\n")
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: "-"
        case let string as String: string
        case let bool as Bool: bool ? "true" : "false"
        case let number as Int: String(number)
        case let number as Double: String(number)
        case let other?: (try? JSONSerialization.data(withJSONObject: other, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }
    }
}
