import Foundation
import TollgateKit

/// A compact JWS parsed once (RFC 7515 §7.1): the routing peek at `iss` and the verification use
/// the same parse. Nothing here is trusted: the signature over `signingInput` is checked by
/// jwt-kit with a key Tollgate chose, before any claim is believed.
package struct CompactJWS: Sendable {
    let header: JOSEHeader
    let payload: JWTAccessClaims
    let signature: [UInt8]
    /// `header.payload`, the bytes the signature covers.
    let signingInput: ArraySlice<UInt8>

    package enum Failure: Error, Equatable {
        case notJWS
        case malformed(String)
    }

    /// Three non-empty base64url segments (no padding: RFC 7515 §2) whose first two are JSON objects.
    package init(_ token: String, claimPaths: ClaimPaths = .none) throws(Failure) {
        let bytes = Array(token.utf8)
        // On UTF-8 bytes: splitting the String itself walks grapheme clusters (12% of a verification).
        let segments = bytes.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw .notJWS }
        guard segments.allSatisfy({ !$0.isEmpty && Base64URL.isAlphabet($0) }) else { throw .malformed("not base64url") }
        guard let headerJSON = Base64URL.decode(segments[0]), let payloadJSON = Base64URL.decode(segments[1]),
              let signature = Base64URL.decode(segments[2]) else { throw .malformed("not base64url") }
        let decoder = claimPaths.decoder()
        do {
            header = try decoder.decode(JOSEHeader.self, from: headerJSON)
            payload = try decoder.decode(JWTAccessClaims.self, from: payloadJSON)
        } catch {
            throw .malformed("header or payload is not a JSON object")
        }
        self.signature = Array(signature)
        signingInput = bytes[..<segments[1].endIndex]
    }
}

/// The JOSE header members Tollgate looks at. Members of an unexpected type read as absent, so
/// that the checks refuse them (`alg` not a string is no allowed algorithm).
struct JOSEHeader: Decodable, Sendable {
    let alg: String?
    let kid: String?
    let typ: String?
    /// `crit` present at all: Tollgate understands no extension, so any is refused (RFC 7515 §4.1.11).
    let hasCritical: Bool

    private enum Keys: String, CodingKey { case alg, kid, typ, crit }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        alg = try? c.decodeIfPresent(String.self, forKey: .alg)
        kid = try? c.decodeIfPresent(String.self, forKey: .kid)
        typ = try? c.decodeIfPresent(String.self, forKey: .typ)
        hasCritical = c.contains(.crit)
    }
}
