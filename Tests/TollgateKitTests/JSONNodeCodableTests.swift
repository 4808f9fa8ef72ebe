import Foundation
import Testing
import TollgateKit

/// The value tree that carries pass-through JSON (Orthanc definition extras) through Codable
/// storage and back into a definition.
@Suite("JSONNode as Codable")
struct JSONNodeCodableTests {
    @Test func aStoredValueComesBackEqualWhateverTheMemberOrder() throws {
        let node = try StrictJSON.parse(Array(#"{"b":[1,2.5,"x",null],"a":{"z":true,"y":-3}}"#.utf8))
        let sorted = try JSONDecoder().decode(JSONNode.self, from: JSONEncoder().encode(node))
        let again = try JSONDecoder().decode(JSONNode.self, from: JSONEncoder().encode(sorted))
        #expect(sorted == again)
        #expect(sorted.rendered == #"{"a":{"y":-3,"z":true},"b":[1,2.5,"x",null]}"#)
    }

    @Test func wholeNumbersStayIntegersAndOthersDoNot() throws {
        #expect(JSONNode.number(30).integer == 30)
        #expect(JSONNode.number(-1).integer == -1)
        #expect(JSONNode.number(30.5).integer == nil)
        #expect(JSONNode.number(1e300).integer == nil)
        #expect(JSONNode.string("30").integer == nil)
        #expect(String(decoding: try JSONEncoder().encode(JSONNode.number(30)), as: UTF8.self) == "30")
        #expect(JSONNode.number(.infinity).rendered == "null")
    }

    @Test func aDictionaryOfMembersRendersSortedAndEscaped() {
        let rendered = JSONNode.rendered(object: ["Timeout": .number(30), "HasDelete": .bool(true), "Note": .string("a \"b\"\n")])
        #expect(rendered == #"{"HasDelete":true,"Note":"a \"b\"\n","Timeout":30}"#)
    }
}
