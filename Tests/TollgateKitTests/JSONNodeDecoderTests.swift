import Foundation
import Testing
import TollgateKit

/// `StrictJSON.decode` reads a type from StrictJSON's own parse; Foundation's `JSONDecoder` is the
/// reference. Over these documents both accept with the same value or both refuse, except where
/// the table says StrictJSON refuses on purpose.
@Suite("JSON node decoder")
struct JSONNodeDecoderTests {
    struct Sample: Decodable, Equatable {
        var name: String
        var count: Int?
        var ratio: Double?
        var single: Float?
        var flag: Bool?
        var small: UInt8?
        var tags: [String]?
        var nested: Nested?
        var map: [String: Int]?
        var link: URL?
        var choice: Choice?

        struct Nested: Decodable, Equatable {
            var level: String
            var ids: [Int]
            var note: String?
        }

        enum Choice: String, Decodable {
            case one, two
        }
    }

    static let documents: [(String, refusedOnPurpose: Bool)] = [
        (#"{"name":"a"}"#, false),
        (
            #"{"name":"a","count":-3,"ratio":2.5,"single":0.25,"flag":true,"small":255,"tags":["x","y"],"nested":{"level":"study","ids":[1,2],"note":null},"map":{"k":1,"l":2},"link":"https://pacs.example.org/a?b=c","choice":"two","extra":[{}]}"#,
            false
        ),
        (#"{"name":"a","count":null,"tags":null,"nested":null,"map":null,"link":null}"#, false),
        (#"{"name":null}"#, false),
        (#"{}"#, false),
        (#"{"name":1}"#, false),
        (#"{"name":"a","count":"3"}"#, false),
        (#"{"name":"a","count":3.5}"#, false),
        (#"{"name":"a","count":true}"#, false),
        (#"{"name":"a","flag":1}"#, false),
        (#"{"name":"a","ratio":"1"}"#, false),
        (#"{"name":"a","small":256}"#, false),
        (#"{"name":"a","small":-1}"#, false),
        (#"{"name":"a","tags":[1]}"#, false),
        (#"{"name":"a","tags":["x",null]}"#, false),
        (#"{"name":"a","tags":"x"}"#, false),
        (#"{"name":"a","nested":{"level":"s"}}"#, false),
        (#"{"name":"a","nested":{"level":"s","ids":[1,null]}}"#, false),
        (#"{"name":"a","nested":[]}"#, false),
        (#"{"name":"a","map":{"k":"v"}}"#, false),
        (#"{"name":"a","link":7}"#, false),
        (#"{"name":"a","choice":"three"}"#, false),
        (#"{"name":"a","count":9007199254740991}"#, false),
        (#"{"name":"a","ratio":1e400}"#, false),
        (#"{"name":"\u00e9\ud83d\ude00"}"#, false),
        (#"["name"]"#, false),
        (#""name""#, false),
        (#"null"#, false),
        // A JSON number past 2^53 has lost digits by the time it is a Double: refused rather than rounded.
        (#"{"name":"a","count":9007199254740993}"#, true),
        // StrictJSON's own refusals: a member twice, a lone surrogate.
        (#"{"name":"a","name":"b"}"#, true),
        (#"{"name":"\ud800"}"#, true),
    ]

    @Test func readsWhatFoundationReadsAndRefusesWhatItRefuses() {
        for (document, refusedOnPurpose) in Self.documents {
            let bytes = Array(document.utf8)
            let reference = try? JSONDecoder().decode(Sample.self, from: Data(bytes))
            let strict = try? StrictJSON.decode(Sample.self, from: bytes)
            if refusedOnPurpose {
                #expect(strict == nil, "\(document)")
            } else {
                #expect(strict == reference, "\(document)")
            }
        }
        let full = try? StrictJSON.decode(Sample.self, from: Array(Self.documents[1].0.utf8))
        #expect(full?.nested?.ids == [1, 2])
        #expect(full?.link?.host == "pacs.example.org")
    }

    @Test func dictionariesArraysAndLargeObjectsDecode() throws {
        let members = (0..<200).map { #""m\#($0)":\#($0)"# }.joined(separator: ",")
        let large = try StrictJSON.decode([String: Int].self, from: Array("{\(members)}".utf8))
        #expect(large.count == 200 && large["m199"] == 199)
        #expect(try StrictJSON.decode([[Bool]].self, from: Array("[[true],[],[false,true]]".utf8)) == [[true], [], [false, true]])
        #expect(try StrictJSON.decode(Double.self, from: Array("1e3".utf8)) == 1000)
        #expect((try? StrictJSON.decode(Int.self, from: Array("1e400".utf8))) == nil, "infinity is no integer")
        #expect((try? StrictJSON.decode(Float.self, from: Array("1e300".utf8))) == nil)
        #expect((try? StrictJSON.decode(Double.self, from: Array("-1e400".utf8))) == nil, "beyond Double, as Foundation refuses it")
    }

    @Test func aRefusalSaysWhereAndWhat() {
        do {
            _ = try StrictJSON.decode(Sample.self, from: Array(#"{"name":"a","nested":{"level":"s","ids":[1,"x"]}}"#.utf8))
            Issue.record("decoded")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == ["nested", "ids", "1"])
            #expect(context.debugDescription == "expected an integer that fits Int, found a string")
        } catch {
            Issue.record("\(error)")
        }
    }
}
