import Foundation
import Testing
@testable import TollgateInbound

/// The claims MockForge answers with: standard members first, userinfo after, never a name twice.
@Suite("principal claims JSON")
struct PrincipalJSONTests {
    @Test func userinfoNeverRepeatsAWrittenMemberAndTheResultIsJSON() throws {
        var claims = TokenClaims()
        claims.subject = "s\"1"
        claims.scopes = ["read", "write"]
        claims.audiences = ["a", "b"]
        claims.expiresAt = 2_000_000_000
        claims.userinfo = ["sub": "other", "email": "e@x", "iss": "not-written-as-standard"]
        let json = Principal(claims: claims).claimsJSON
        #expect(json == #"{"scope":"read write","sub":"s\"1","aud":["a","b"],"exp":2000000000,"email":"e@x","iss":"not-written-as-standard"}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
        #expect(Principal(claims: TokenClaims()).claimsJSON == "{}")
    }
}
