import Foundation
import Testing
import TollgateConfiguration
import TollgateKit
@testable import TollgateInbound

/// The one parse of a JWT: what routing and verification both read from.
@Suite("compact JWS, parsed once")
struct CompactJWSTests {
    static func b64(_ json: String) -> String {
        Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test func headerPayloadAndSigningInputComeFromOneParse() throws {
        let header = Self.b64(#"{"alg":"RS256","kid":"k1","typ":"at+jwt"}"#)
        let payload = Self.b64(#"{"iss":"https://idp","sub":"s","aud":["a","b"],"scope":"read write","exp":2000000000.7,"roles":"x y"}"#)
        let jws = try CompactJWS(header + "." + payload + ".c2ln")
        #expect(jws.header.alg == "RS256")
        #expect(jws.header.kid == "k1")
        #expect(jws.header.typ == "at+jwt")
        #expect(!jws.header.hasCritical)
        #expect(jws.payload.unverifiedIssuer == "https://idp")
        #expect(jws.payload.claims?.audiences == ["a", "b"])
        #expect(jws.payload.claims?.scopes == ["read", "write"])
        #expect(jws.payload.claims?.expiresAt == 2_000_000_000)
        #expect(jws.payload.claims?.roles == ["x", "y"])
        #expect(String(decoding: jws.signingInput, as: UTF8.self) == header + "." + payload)
        #expect(jws.signature == Array("sig".utf8))
    }

    @Test func wrongTypedClaimsStillRouteButCarryNoClaims() throws {
        let jws = try CompactJWS(Self.b64(#"{"alg":5,"crit":["x"]}"#) + "." + Self.b64(#"{"iss":"https://idp","exp":"never"}"#) + ".c2ln")
        #expect(jws.header.alg == nil)
        #expect(jws.header.hasCritical)
        #expect(jws.payload.unverifiedIssuer == "https://idp")
        #expect(jws.payload.claims == nil)
    }

    @Test func structureIsCheckedBeforeAnyJSON() {
        #expect(throws: CompactJWS.Failure.notJWS) { try CompactJWS("opaque-token") }
        #expect(throws: CompactJWS.Failure.notJWS) { try CompactJWS("a.b.c.d") }
        #expect(throws: CompactJWS.Failure.malformed("not base64url")) { try CompactJWS("a+b.c.d") }
        #expect(throws: CompactJWS.Failure.malformed("not base64url")) { try CompactJWS("a..d") }
        #expect(throws: CompactJWS.Failure.malformed("header or payload is not a JSON object")) {
            try CompactJWS(Self.b64("[1]") + "." + Self.b64("{}") + ".c2ln")
        }
    }

    @Test func claimsReaderIsStrictExceptForGrantingLists() throws {
        func decode(_ json: String) throws -> IntrospectionResponse {
            try IntrospectionResponse(json: Array(json.utf8))
        }
        #expect(throws: (any Error).self) { try decode(#"{"active":true,"scope":5}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"active":"yes"}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"active":true,"exp":1e13}"#) }
        let answer = try decode(#"{"active":true,"scp":["a"],"azp":"c","groups":7,"roles":["r"],"exp":100.9}"#)
        #expect(answer.active)
        #expect(answer.claims.scopes == ["a"])
        #expect(answer.claims.clientID == "c")
        #expect(answer.claims.groups.isEmpty)
        #expect(answer.claims.roles == ["r"])
        #expect(answer.claims.expiresAt == 100)
    }
}
