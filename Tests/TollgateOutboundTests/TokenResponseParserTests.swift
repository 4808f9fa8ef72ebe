import NIOCore
import Testing
import TollgateKit
@testable import TollgateOutbound

/// The token endpoint's answer, read strictly (RFC 6749 §5.1 and §5.2) without a server.
@Suite("token endpoint answers")
struct TokenResponseParserTests {
    let parser = TokenResponseParser(defaultExpiresIn: 300, scrubber: SecretScrubber(secrets: ["client-secret-value"]))

    func parse(_ body: String, status: UInt = 200) -> Result<AccessToken, TokenFetchError> {
        parser.parse(status: status, body: ByteBuffer(string: body), retryAfter: nil, now: 1000)
    }

    @Test func aPlainAnswerIsRead() throws {
        let token = try parse(#"{"access_token":"abc","token_type":"Bearer","expires_in":"120","scope":"dicom.read","refresh_token":"r1"}"#).get()
        #expect(token.value == "abc")
        #expect(token.expiresAt == 1120)
        #expect(!token.lifetimeAssumed)
        #expect(token.scope == "dicom.read")
        #expect(token.refreshToken == "r1")
    }

    /// Which of two access tokens (or lifetimes) is meant cannot be known: the answer is refused.
    @Test func aRepeatedMemberIsRefusedNotResolved() {
        for body in [
            #"{"access_token":"a","access_token":"b"}"#, #"{"access_token":"a","expires_in":60,"expires_in":99999}"#,
            #"{"access_token":"a","refresh_token":"r","refresh_token":"s"}"#,
        ] {
            guard case .failure(let error) = parse(body) else { Issue.record("accepted: \(body)"); continue }
            #expect(error.kind == .unparseable)
        }
    }

    @Test func membersOfTheWrongTypeAreNotTakenForTheRightOne() {
        guard case .failure(let notANumber) = parse(#"{"access_token":"a","expires_in":true}"#) else { Issue.record("boolean lifetime"); return }
        #expect(notANumber.kind == .unparseable)
        guard case .failure(let notAString) = parse(#"{"access_token":1}"#) else { Issue.record("numeric token"); return }
        #expect(notAString.kind == .unparseable)
        #expect((try? parse(#"{"access_token":"a","expires_in":null}"#).get().lifetimeAssumed) == true)
        #expect((try? parse(#"{"access_token":"a","expires_in":1e400}"#).get()) == nil, "an infinite lifetime is not a number")
    }

    @Test func anErrorAnswerKeepsOnlyASafeCodeAndACleanedDescription() {
        let body = #"{"error":"invalid_client","error_description":"bad secret client-secret-value\u0007"}"#
        guard case .failure(let error) = parse(body, status: 401) else { Issue.record("accepted"); return }
        #expect(error.oauthError == "invalid_client")
        #expect(!error.detail.contains("client-secret-value"))
        #expect(!error.detail.unicodeScalars.contains { $0.value < 0x20 })
        guard case .failure(let repeated) = parse(#"{"error":"a","error":"b"}"#, status: 400) else { Issue.record("accepted"); return }
        #expect(repeated.oauthError == nil, "a repeated error member is not read")
    }
}
