import Foundation
import Testing
import TollgateKit
@testable import TollgateInbound

/// Documents an issuer serves are read strictly: a repeated member refuses the document.
@Suite("issuer documents read strictly")
struct StrictNetworkDocumentTests {
    static let jwk =
        #"{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#

    @Test func aKeySetWithARepeatedMemberIsRefusedWhole() async {
        let good = Data(#"{"keys":[\#(Self.jwk)]}"#.utf8)
        #expect(await VerificationKey.parse(jwks: good, allowed: [.es256])?.count == 1)
        let repeatedKeys = Data(#"{"keys":[],"keys":[\#(Self.jwk)]}"#.utf8)
        #expect(await VerificationKey.parse(jwks: repeatedKeys, allowed: [.es256]) == nil)
        let repeatedCoordinate = Data(#"{"keys":[\#(Self.jwk.dropLast()),"x":"AAAA"}]}"#.utf8)
        #expect(await VerificationKey.parse(jwks: repeatedCoordinate, allowed: [.es256]) == nil)
    }

    @Test func userinfoValuesBecomeTextOnlyFromScalars() {
        #expect(UserinfoClient.text(.string("Dr\u{7}. Who")) == "Dr. Who")
        #expect(UserinfoClient.text(.number(42)) == "42")
        #expect(UserinfoClient.text(.number(1.5)) == "1.5")
        #expect(UserinfoClient.text(.number(.infinity)) == nil)
        #expect(UserinfoClient.text(.bool(true)) == "true")
        #expect(UserinfoClient.text(.array([.string("x")])) == nil)
        #expect(UserinfoClient.text(nil) == nil)
    }
}
