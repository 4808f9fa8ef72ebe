import TollgateKit

/// A compact JWS parsed once (RFC 7515 §7.1): the routing peek at `iss` and the verification use
/// the same parse. Nothing here is trusted: the signature over `signingInput` is checked by
/// jwt-kit with a key Tollgate chose, before any claim is believed.
package struct CompactJWS: Sendable {
    let header: JOSEHeader
    let payload: JWTAccessClaims
    let signature: [UInt8]
    /// `header.payload`, the bytes the signature covers.
    let signingInput: [UInt8]

    package enum Failure: Error, Equatable {
        case notJWS
        case malformed(String)
    }

    /// Three non-empty base64url segments (no padding: RFC 7515 §2) whose first two are JSON objects.
    package init(_ token: String, claimPaths: ClaimPaths = .none) throws(Failure) {
        var token = token
        let parsed = token.withUTF8 { bytes in Self.parse(bytes, claimPaths: claimPaths) }
        (header, payload, signature, signingInput) = try parsed.get()
    }

    private typealias Parts = (JOSEHeader, JWTAccessClaims, [UInt8], [UInt8])

    /// On the UTF-8 bytes: splitting the String itself walks grapheme clusters.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, claimPaths: ClaimPaths) -> Result<Parts, Failure> {
        let dot = UInt8(ascii: ".")
        guard let first = bytes.firstIndex(of: dot), let second = bytes[(first + 1)...].firstIndex(of: dot),
            !bytes[(second + 1)...].contains(dot)
        else { return .failure(.notJWS) }
        let segments = [0..<first, first + 1..<second, second + 1..<bytes.count].map { UnsafeBufferPointer(rebasing: bytes[$0]) }
        guard segments.allSatisfy({ !$0.isEmpty }) else { return .failure(.malformed("not base64url")) }
        guard let headerJSON = Base64URL.decode(segments[0]), let payloadJSON = Base64URL.decode(segments[1]),
            let signature = Base64URL.decode(segments[2])
        else { return .failure(.malformed("not base64url")) }
        guard let header = try? StrictJSON.object(headerJSON), let payload = try? StrictJSON.object(payloadJSON) else {
            return .failure(.malformed("header or payload is not a JSON object"))
        }
        return .success((JOSEHeader(header), JWTAccessClaims(payload, paths: claimPaths), signature, Array(bytes[..<second])))
    }
}

/// The JOSE header members Tollgate looks at. Members of an unexpected type read as absent, so
/// that the checks refuse them (`alg` not a string is no allowed algorithm).
struct JOSEHeader: Sendable {
    let alg: String?
    let kid: String?
    let typ: String?
    /// `crit` present at all: Tollgate understands no extension, so any is refused (RFC 7515 §4.1.11).
    let hasCritical: Bool

    init(_ object: JSONObject) {
        alg = object["alg"]?.string
        kid = object["kid"]?.string
        typ = object["typ"]?.string
        hasCritical = object.contains("crit")
    }
}
