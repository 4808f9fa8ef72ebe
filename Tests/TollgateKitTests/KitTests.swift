import NIOHTTP1
import Foundation
import NIOCore
import Testing
@testable import TollgateKit

@Suite("shared utilities")
struct KitTests {
    @Test func formEncodingRoundTripsRFC6749Characters() {
        let secret = "p@ss word&=+/:é"
        let encoded = FormEncoding.encode(secret)
        #expect(encoded == "p%40ss+word%26%3D%2B%2F%3A%C3%A9")
        #expect(FormEncoding.decode(encoded) == secret)
        #expect(FormEncoding.decode("%zz") == nil)
        #expect(FormEncoding.parse("a=1&a=2") == nil)
        #expect(FormEncoding.parse("token=abc&token_type_hint=access_token") == ["token": "abc", "token_type_hint": "access_token"])
    }

    @Test func jsonTextEscapes() {
        #expect(JSONText.string("a\"b\\c\n\u{01}") == #""a\"b\\c\n\u0001""#)
        let object = JSONText.object([("s", .string("x")), ("n", .int(3)), ("l", .strings(["a", "b"])), ("b", .bool(true))])
        let parsed = try? JSONSerialization.jsonObject(with: Data(object.utf8)) as? [String: Any]
        #expect(parsed?["n"] as? Int == 3)
        #expect(parsed?["l"] as? [String] == ["a", "b"])
    }

    /// The plain-ASCII fast path and the escaping path agree with a JSON parser on every kind of character.
    @Test func jsonStringsRoundTripThroughAParser() throws {
        let samples = [
            "plain-id_123", "", "tab\there", "quote\"back\\slash", "\u{7F}del", "é ü 日本", "🦄 emoji",
            "line\u{2028}sep\u{2029}", "\u{00}\u{1F}", "\u{E2}",
        ]
        for sample in samples {
            let literal = JSONText.string(sample)
            let decoded = try JSONSerialization.jsonObject(with: Data(("[" + literal + "]").utf8)) as? [String]
            #expect(decoded == [sample], "\(literal)")
        }
        #expect(JSONText.string("a\u{2028}") == #""a\u2028""#)
    }

    @Test func textBufferWritesIntegersPadded() {
        var buffer = TextBuffer()
        buffer.append(7, width: 3)
        buffer.append(byte: UInt8(ascii: " "))
        buffer.append(0)
        buffer.append(byte: UInt8(ascii: " "))
        buffer.append(-42)
        buffer.append(byte: UInt8(ascii: " "))
        buffer.append(Int.min)
        buffer.append(byte: UInt8(ascii: " "))
        buffer.append(123_456, width: 2)
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == "007 0 -42 \(Int.min) 123456")
    }
}

@Suite("HTTP dates, backoff and secret digests")
struct HTTPDateBackoffDigestTests {
    @Test func retryAfterTakesSecondsOrAnHTTPDate() {
        #expect(HTTPDate.retryAfterSeconds(" 120 ", now: 0) == 120)
        #expect(HTTPDate.retryAfterSeconds("-5", now: 0) == nil)
        #expect(HTTPDate.retryAfterSeconds("soon", now: 0) == nil)
        let date = HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(date?.timeIntervalSince1970 == 784_111_777)
        #expect(HTTPDate.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_700) == 77)
        #expect(HTTPDate.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_800) == 0)
        // The `Date` header's form, and back.
        #expect(HTTPDate.format(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(epochSeconds: 1_835_395_200) == "Tue, 29 Feb 2028 00:00:00 GMT")
        for seconds in [0, 951_782_400, 4_102_444_799] {
            #expect(HTTPDate.parse(HTTPDate.format(epochSeconds: seconds))?.timeIntervalSince1970 == Double(seconds))
        }
    }

    @Test func backoffDoublesUpToItsCapWithHalfJitter() {
        #expect(Backoff.delay(attempt: 1, baseMS: 100, maxMS: 1000, random: 0) == 0.05)
        #expect(Backoff.delay(attempt: 1, baseMS: 100, maxMS: 1000, random: 1) == 0.1)
        #expect(Backoff.delay(attempt: 3, baseMS: 100, maxMS: 1000, random: 1) == 0.4)
        #expect(Backoff.delay(attempt: 30, baseMS: 100, maxMS: 1000, random: 1) == 1.0)
        #expect(Backoff.cappedMilliseconds(attempt: 1_000_000, baseMS: 100, maxMS: 10_000) == 10_000)
    }

    @Test func secretDigestsMatchExactlyAndAcrossRotation() {
        let digest = SecretDigest("api-key-0123456789")
        #expect(digest.matches("api-key-0123456789"))
        #expect(!digest.matches("api-key-012345678"))
        #expect(!digest.matches(""))
        let keys = [SecretDigest("old-key-0123456789"), SecretDigest("new-key-0123456789")]
        #expect(SecretDigest.matchesAny("old-key-0123456789", keys))
        #expect(SecretDigest.matchesAny("new-key-0123456789", keys))
        #expect(!SecretDigest.matchesAny("other-key-0123456789", keys))
        #expect(!SecretDigest.matchesAny("anything", []))
    }

    @Test func clientSecretBasicFormEncodesThenBase64Encodes() {
        var headers = HTTPHeaders()
        var form: [(String, String)] = []
        ClientCredentials(clientID: "id:1", secret: Secret("p@ss word"), method: .clientSecretBasic).apply(headers: &headers, form: &form)
        #expect(form.isEmpty)
        let encoded = String(headers["Authorization"].first?.dropFirst("Basic ".count) ?? "")
        #expect(String(data: Data(base64Encoded: encoded) ?? Data(), encoding: .utf8) == "id%3A1:p%40ss+word")
        ClientCredentials(clientID: "id", secret: Secret("s"), method: .clientSecretPost).apply(headers: &headers, form: &form)
        #expect(form.map { $0.0 + "=" + $0.1 } == ["client_id=id", "client_secret=s"])
        #expect(BasicAuthorization.value(user: "orthanc", password: "pw") == "Basic b3J0aGFuYzpwdw==")
    }

    @Test func printableTextDropsControlsAndIsBounded() {
        #expect(PrintableText.clean("a\r\nb\u{1B}[31mc\u{7F}é", limit: 100) == "ab[31mc")
        #expect(PrintableText.clean(String(repeating: "x", count: 500), limit: 64).count == 64)
        #expect(HeaderRules.isValidName("X-Auth-Subject"))
        #expect(!HeaderRules.isValidName("X Auth"))
        #expect(!HeaderRules.isSafeValue("a\r\nInjected: 1"))
    }
}

/// Audit defect 6: credentials inside configured URLs were printed.
@Suite("URL redaction")
struct URLRedactionTests {
    @Test func passwordsAndSecretQueryValuesAreReplaced() {
        let shown = URLRedaction.redacted(
            "https://svc:hunter2-secret@idp.example/realms/x/token?client_secret=s3cr3t-v4lue&api_key=k3y-v4lue&tenant=t1&x-api-key=abc123xyz")
        #expect(!shown.contains("hunter2-secret"))
        #expect(!shown.contains("s3cr3t-v4lue"))
        #expect(!shown.contains("k3y-v4lue"))
        #expect(!shown.contains("abc123xyz"))
        #expect(shown.contains("svc:<redacted>@idp.example/realms/x/token"))
        #expect(shown.contains("tenant=t1"))
        #expect(shown.contains("client_secret=<redacted>"))
        #expect(URLRedaction.redacted("https://idp.example/token") == "https://idp.example/token")
        #expect(URLRedaction.redacted("http://127.0.0.1:8080/dicom-web?limit=5") == "http://127.0.0.1:8080/dicom-web?limit=5")
        #expect(URLRedaction.redacted("not a url with user:pw@host?token=x") == "<redacted>")
    }
}

@Suite("numbers from the network and IdP text")
struct NetworkInputTests {
    @Test func saturatingConversionNeverTraps() {
        #expect(Int(saturating: 1e19) == Int.max)
        #expect(Int(saturating: -1e300) == Int.min)
        #expect(Int(saturating: .nan) == 0)
        #expect(Int(saturating: .infinity) == Int.max)
        #expect(Int(saturating: 3599.9) == 3599)
        #expect(DeltaSeconds.parse("300") == 300)
        #expect(DeltaSeconds.parse("NaN") == nil)
        #expect(DeltaSeconds.parse("-5") == nil)
        #expect(DeltaSeconds.parse("1e3") == nil)
        #expect(DeltaSeconds.parse("") == nil)
        #expect(DeltaSeconds.parse("99999999999999999999") == Double(Int32.max))
    }

    @Test func scrubberRemovesEveryFormOfTheSecretAndLongRuns() {
        let scrubber = SecretScrubber(secrets: ["p@ss word+/="], basicPairs: [("client", "p@ss word+/=")])
        let basic = Data("client:p%40ss+word%2B%2F%3D".utf8).base64EncodedString()
        let text = "bad p@ss word+/= and p%40ss+word%2B%2F%3D via Basic \(basic); jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln end"
        let clean = scrubber.scrub(text)
        #expect(!clean.contains("p@ss word"))
        #expect(!clean.contains("p%40ss"))
        #expect(!clean.contains(basic))
        #expect(!clean.contains("eyJhbGci"))
        #expect(clean.hasPrefix("bad <redacted> and <redacted> via Basic <redacted>"))
        #expect(scrubber.scrub("invalid_client: Client authentication failed") == "invalid_client: Client authentication failed")
    }

    @Test func ipNetworksMatchTheirPeersOnly() throws {
        let loopback = try #require(IPNetwork("127.0.0.0/8"))
        #expect(loopback.contains(try SocketAddress(ipAddress: "127.9.8.7", port: 1)))
        #expect(!loopback.contains(try SocketAddress(ipAddress: "128.0.0.1", port: 1)))
        #expect(loopback.contains(try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 1)), "IPv4-mapped peers of a dual-stack listener")
        let v6 = try #require(IPNetwork("fd00::/8"))
        #expect(v6.contains(try SocketAddress(ipAddress: "fd12::1", port: 1)))
        #expect(!v6.contains(try SocketAddress(ipAddress: "fe80::1", port: 1)))
        #expect(!v6.contains(try SocketAddress(ipAddress: "10.0.0.1", port: 1)))
        let odd = try #require(IPNetwork("10.1.2.128/25"))
        #expect(odd.contains(try SocketAddress(ipAddress: "10.1.2.200", port: 1)))
        #expect(!odd.contains(try SocketAddress(ipAddress: "10.1.2.127", port: 1)))
        #expect(IPNetwork("10.0.0.1")?.contains(try SocketAddress(ipAddress: "10.0.0.1", port: 9)) == true)
        #expect(IPNetwork("0.0.0.0/0")?.contains(try SocketAddress(ipAddress: "8.8.8.8", port: 9)) == true)
        for bad in ["10.0.0.0/33", "::1/129", "10.0.0.0/-1", "10.0.0.0/", "host.example", "", "10.0.0.0/8/8", "10.0.0.0/٨"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
        #expect(![IPNetwork]([loopback]).contains(nil as SocketAddress?))
    }
}
