import Foundation
import Testing
@testable import TollgateInbound

/// Every entry of `Tests/corpus/request-paths.tsv` (what nginx, Orthanc, Traefik and Envoy each
/// decode) gets exactly its listed answer: the canonical path, or a refusal.
@Suite("request path corpus")
struct RequestPathCorpusTests {
    struct Entry: CustomStringConvertible {
        let line: Int
        let raw: [UInt8]
        let expected: String?
        let note: String
        var description: String { "line \(line): \(note)" }
    }

    static func corpus() throws -> [Entry] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("corpus/request-paths.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var entries: [Entry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.hasPrefix("#") && !line.isEmpty {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == 3 else { throw CorpusError.badLine(index + 1) }
            entries.append(
                Entry(
                    line: index + 1, raw: try unescape(columns[0], line: index + 1),
                    expected: columns[1] == "REFUSE" ? nil : String(columns[1]), note: String(columns[2])))
        }
        return entries
    }

    enum CorpusError: Error { case badLine(Int) }

    /// `\xHH` is a raw byte, `\\` a backslash.
    static func unescape(_ text: Substring, line: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            if bytes.first == UInt8(ascii: "\\") { bytes.removeFirst(); out.append(byte); continue }
            guard bytes.popFirst() == UInt8(ascii: "x"), bytes.count >= 2,
                let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            else { throw CorpusError.badLine(line) }
            bytes.removeFirst(2)
            out.append(value)
        }
        return out
    }

    @Test func everyEntryHasItsListedAnswer() throws {
        let entries = try Self.corpus()
        #expect(entries.count >= 150)
        #expect(entries.contains { $0.expected == nil } && entries.contains { $0.expected != nil })
        for entry in entries {
            // Bytes that are not UTF-8 reach Tollgate as U+FFFD (headers and the request line are decoded so).
            let answer = try? RequestPath.canonical(Substring(String(decoding: entry.raw, as: UTF8.self))).get()
            #expect(answer == entry.expected, "\(entry): got \(answer ?? "REFUSE")")
        }
    }

    @Test func theCanonicalFormIsAFixedPoint() throws {
        for entry in try Self.corpus() {
            guard let canonical = entry.expected else { continue }
            #expect(try RequestPath.canonical(Substring(canonical)).get() == canonical, "\(entry)")
        }
    }

    /// What a decoding backend (Orthanc: every escape decoded, `\\` read as `/`) makes of a path.
    static func backendSegments(_ path: String) -> [String] {
        var bytes: [UInt8] = []
        var iterator = Array(path.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte == UInt8(ascii: "\\") ? UInt8(ascii: "/") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// 50,000 paths built from the pieces walks are made of (a deterministic sweep): every path
    /// accepted is a fixed point that a decoding backend splits into the same segments, none of
    /// them a dot segment.
    @Test func noAcceptedPathHidesASeparatorFromADecodingBackend() throws {
        let pieces = [
            "/", "/", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "\\", ";", "%3B", "%25", "%252F", "%32", "%46", "%",
            "2F", "a", "public", "admin", "%61", "?", "#", "%00", "%C0", "%AF", "%C3%A9", "é", "~", "%7E", "//", "%20", "+", "%2",
        ]
        var state: UInt64 = 0x2545F4914F6CDD1D
        var accepted = 0
        for _ in 0..<50_000 {
            var path = "/"
            state = state &* 6364136223846793005 &+ 1442695040888963407
            for _ in 0..<(2 + Int(state >> 60)) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                path += pieces[Int((state >> 33) % UInt64(pieces.count))]
            }
            guard case .success(let canonical) = RequestPath.canonical(Substring(path)) else { continue }
            accepted += 1
            #expect(try RequestPath.canonical(Substring(canonical)).get() == canonical, "\(path)")
            let ours = canonical.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let theirs = Self.backendSegments(canonical)
            #expect(ours.count == theirs.count, "\(path) → \(canonical): a decoding backend splits it differently")
            #expect(!theirs.contains(".") && !theirs.contains(".."), "\(path) → \(canonical): a dot segment after decoding")
        }
        #expect(accepted > 5_000, "the sweep must exercise accepted paths too (\(accepted))")
    }
}
