import Foundation
import Testing
import TollgateKit

/// StrictJSON against Foundation's `JSONSerialization` over every fuzz seed and a set of edge
/// documents: where both accept, they read the same value; where they disagree, the reason is one
/// of the refusals StrictJSON makes on purpose, and it is StrictJSON that refuses.
@Suite("StrictJSON differential")
struct StrictJSONDifferentialTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz-corpus")

    /// Documents where the two parsers are known to part, each with why StrictJSON refuses.
    static let edges: [(document: String, strictRefusesBecause: String?)] = [
        (#"{"access_token":"a","access_token":"b"}"#, "duplicate member: which one counts would depend on the parser"),
        (#"{"keys":[{"kty":"RSA","n":"x","n":"y"}]}"#, "duplicate member, nested"),
        (#"{"s":"\ud800"}"#, "lone surrogate: not a Unicode string"),
        (#"{"s":"\udc00x"}"#, "lone low surrogate"),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "nesting deeper than 64"),
        (#"{"a":1} x"#, nil),
        (#"{"a":01}"#, nil),
        (#"{"a":1,}"#, nil),
        (#"{'a':1}"#, nil),
        (#"{"a":NaN}"#, nil),
        ("{\"a\":\"tab\there\"}", nil),
        // The one disagreement the other way: Foundation refuses a number beyond Double, StrictJSON reads
        // ±infinity, and every reader range-checks (`isFinite`) before it converts (see `beyondDouble`).
        (#"{"a":-0}"#, nil),
        (#"{"a":"\u0000"}"#, nil),
        (#"{"a":"\uD83D\uDE00"}"#, nil),
        (#"  {"a":[true,false,null,1.5,"x"]}  "#, nil),
        (#""just a string""#, nil),
        ("", nil),
    ]

    static func corpusDocuments() throws -> [(name: String, bytes: [UInt8])] {
        var all: [(String, [UInt8])] = []
        for target in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let directory = corpus.appendingPathComponent(target)
            for seed in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() {
                all.append(("\(target)/\(seed)", Array(try Data(contentsOf: directory.appendingPathComponent(seed)))))
            }
        }
        return all
    }

    static func foundation(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    static func same(_ node: JSONNode, _ value: Any) -> Bool {
        switch node {
        case .null: return value is NSNull
        case .string(let string): return (value as? String) == string
        case .bool(let flag): return (value as? Bool) == flag
        case .number(let number): return (value as? NSNumber)?.doubleValue == number
        case .array(let elements):
            guard let values = value as? [Any], values.count == elements.count else { return false }
            return zip(elements, values).allSatisfy { same($0, $1) }
        case .object(let object):
            guard let members = value as? [String: Any], members.count == object.count else { return false }
            return object.members.allSatisfy { member in members[member.name].map { same(member.value, $0) } ?? false }
        }
    }

    @Test func everySeedReadsTheSameOrIsRefusedForAKnownReason() throws {
        var compared = 0
        for (name, bytes) in try Self.corpusDocuments() {
            let strict = try? StrictJSON.parse(bytes)
            let lenient = Self.foundation(bytes)
            switch (strict, lenient) {
            case let (strict?, lenient?):
                #expect(Self.same(strict, lenient), "\(name): both accept but read different values")
                compared += 1
            case (.some, nil):
                Issue.record("\(name): StrictJSON accepts what Foundation refuses")
            case (nil, .some):
                // Only the refusals StrictJSON makes on purpose.
                let reason = (try? { () throws(StrictJSON.Failure) in _ = try StrictJSON.parse(bytes) }()).map { "none" } ?? Self.reason(bytes)
                #expect(Self.deliberate.contains { reason.contains($0) }, "\(name): StrictJSON alone refuses: \(reason)")
            case (nil, nil):
                break
            }
        }
        #expect(compared >= 10, "the corpus holds JSON documents both parsers read")
    }

    @Test func edgeDocumentsPartOnlyWhereExplained() {
        for (document, explanation) in Self.edges {
            let bytes = Array(document.utf8)
            let strict = try? StrictJSON.parse(bytes)
            let lenient = Self.foundation(bytes)
            if let explanation {
                #expect(strict == nil, "StrictJSON must refuse: \(explanation)")
                if lenient != nil { #expect(Self.deliberate.contains { Self.reason(bytes).contains($0) }, "\(document): \(Self.reason(bytes))") }
            } else if let strict, let lenient {
                #expect(Self.same(strict, lenient), "\(document): read differently")
            } else {
                #expect(strict == nil, "\(document): StrictJSON accepts what Foundation refuses")
            }
        }
    }

    /// Foundation refuses numbers beyond Double's range; StrictJSON reads them as ±infinity (never a
    /// trap), which no reader takes as a value: an `exp` or `expires_in` must be finite.
    @Test func numbersBeyondDoubleAreInfinityWhereFoundationRefuses() throws {
        for document in [#"{"a":1e400}"#, #"{"a":-1e400}"#, "{\"a\":" + String(repeating: "9", count: 400) + "}"] {
            let bytes = Array(document.utf8)
            #expect(Self.foundation(bytes) == nil)
            #expect(try StrictJSON.object(bytes)["a"]?.number?.isFinite == false)
        }
    }

    /// The refusals StrictJSON makes where Foundation reads something.
    static let deliberate = ["duplicate", "surrogate", "deep", "number"]

    static func reason(_ bytes: [UInt8]) -> String {
        do throws(StrictJSON.Failure) {
            _ = try StrictJSON.parse(bytes)
            return "accepted"
        } catch {
            return error.reason
        }
    }
}
