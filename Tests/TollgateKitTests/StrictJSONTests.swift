import Foundation
import Testing
import TollgateKit

/// The hot-path JSON parser: what it accepts must mean what Foundation's parser says it means,
/// and what it refuses must be refused without a crash, whatever the input.
@Suite("strict JSON")
struct StrictJSONTests {
    func parse(_ text: String) throws(StrictJSON.Failure) -> JSONNode { try StrictJSON.parse(Array(text.utf8)) }

    @Test func readsEveryKindOfValue() throws {
        let node = try parse(
            #" {"s":"a\"b\\c\/d\b\f\n\r\t","u":"\u00e9\ud83d\ude00","n":[0,-1,2.5,1e3,-0.5E-2,123456789012345678],"t":true,"f":false,"z":null,"o":{"k":[]}} "#)
        let object = try #require(node.object)
        #expect(object["s"]?.string == "a\"b\\c/d\u{8}\u{c}\n\r\t")
        #expect(object["u"]?.string == "é😀")
        #expect(object["n"]?.array?.compactMap(\.number) == [0, -1, 2.5, 1000, -0.005, 123456789012345678])
        #expect(object["t"]?.bool == true && object["f"]?.bool == false && object["z"] == .null)
        #expect(object["o"]?.object?["k"]?.array?.isEmpty == true)
        #expect(object.members.map(\.name) == ["s", "u", "n", "t", "f", "z", "o"])
        #expect(try parse("\"é\"").string == "é")
    }

    @Test func refusesWhatRFC8259Refuses() {
        let bad = [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "{'a':1}", "[01]", "[1.]", "[.5]", "[-]", "[+1]", "[1e]",
            "[1e+]", "[0x10]", "[NaN]", "[Infinity]", "tru", "nul", "[true false]", "{\"a\" 1}", "\"\\x\"", "\"\\u12\"",
            "\"\\u12G4\"", "\"a\nb\"", "\"a\u{0}b\"", "{} {}", "[1]x", "\"unterminated", "\"\\", "{\"a\":}",
        ]
        for text in bad {
            #expect(throws: StrictJSON.Failure.self, "\(text.debugDescription)") { try parse(text) }
        }
    }

    @Test func refusesDuplicateNamesLoneSurrogatesInvalidUTF8AndDeepNesting() {
        #expect(throws: StrictJSON.Failure.self) { try parse(#"{"iss":"a","iss":"b"}"#) }
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(throws: StrictJSON.Failure.self) { try parse("{" + many + ",\"k39\":1}") }
        #expect((try? parse("{" + many + "}"))?.object?.count == 40)
        #expect(throws: StrictJSON.Failure.self) { try parse(#""\ud800""#) }
        #expect(throws: StrictJSON.Failure.self) { try parse(#""\udc00\ud800""#) }
        #expect(throws: StrictJSON.Failure.self) { try parse(#""\ud800\u0041""#) }
        for invalid: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xC0, 0x80, 0x22]] {
            #expect(throws: StrictJSON.Failure.self) { try StrictJSON.parse(invalid) }
        }
        let deep = String(repeating: "[", count: StrictJSON.maxDepth + 1) + String(repeating: "]", count: StrictJSON.maxDepth + 1)
        #expect(throws: StrictJSON.Failure.self) { try parse(deep) }
        let deepest = String(repeating: "[", count: StrictJSON.maxDepth) + String(repeating: "]", count: StrictJSON.maxDepth)
        #expect((try? parse(deepest)) != nil)
        #expect(throws: StrictJSON.Failure.self) { try parse(String(repeating: "{\"a\":", count: 100_000)) }
    }

    @Test func hugeAndTinyNumbersParseWithoutTrapping() throws {
        #expect(try parse("1e999").number == .infinity)
        #expect(try parse("-1e999").number == -.infinity)
        #expect(try parse("1e-999").number == 0)
        #expect(try parse(String(repeating: "9", count: 400)).number?.isFinite == false)
        #expect(try parse("-0").number == 0)
    }

    /// Differential: random documents written by Foundation read back the same.
    @Test func agreesWithFoundationOnRandomDocuments() throws {
        var generator = SystemRandomNumberGenerator()
        func value(_ depth: Int) -> Any {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return Int.random(in: -1_000_000_000_000...1_000_000_000_000, using: &generator)
            case 1: return Double.random(in: -1e6...1e6, using: &generator)
            case 2:
                return String(
                    (0..<Int.random(in: 0..<12, using: &generator)).map { _ in
                        "aé\"\\/\n\t\u{1}😀 z".randomElement(using: &generator)!
                    })
            case 3: return Bool.random(using: &generator)
            case 4: return (0..<Int.random(in: 0..<5, using: &generator)).map { _ in value(depth + 1) }
            default: return Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0..<5, using: &generator)).map { ("k\($0)é", value(depth + 1)) })
            }
        }
        func same(_ node: JSONNode, _ foundation: Any) -> Bool {
            switch node {
            case .string(let s): return (foundation as? String) == s
            case .number(let n): return (foundation as? NSNumber).map { abs($0.doubleValue - n) <= abs(n) * 1e-15 } ?? false
            case .bool(let b): return (foundation as? NSNumber)?.boolValue == b && String(cString: (foundation as! NSNumber).objCType) != "d"
            case .array(let list):
                guard let other = foundation as? [Any], other.count == list.count else { return false }
                return zip(list, other).allSatisfy { same($0, $1) }
            case .object(let object):
                guard let other = foundation as? [String: Any], other.count == object.count else { return false }
                return object.members.allSatisfy { member in other[member.name].map { same(member.value, $0) } ?? false }
            case .null: return foundation is NSNull
            }
        }
        for _ in 0..<500 {
            let document = ["root": value(0)]
            let data = try JSONSerialization.data(withJSONObject: document)
            let node = try StrictJSON.parse(Array(data))
            #expect(same(node, try JSONSerialization.jsonObject(with: data)), "\(String(decoding: data, as: UTF8.self))")
        }
    }
}

@Suite("base64url")
struct Base64URLTests {
    @Test func decodesCanonicalUnpaddedSegmentsOnly() {
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("c2ln") == Array("sig".utf8))
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        for bad in ["c2ln=", "c2l+", "c2l/", "a", "abcde", "c2m", "c2lu!", "YQ=", "YR", "YWF", "c2l\u{e9}"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
    }
}
