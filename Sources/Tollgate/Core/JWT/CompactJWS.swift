import Foundation
import JWTKit

/// The unverified outside of a compact JWS: enough to route a token to an issuer and pick a key.
/// Nothing here is trusted; jwt-kit verifies the signature and decodes the payload afterwards.
struct CompactJWS {
    let header: JWTHeader
    /// `iss` read from the unverified payload, used only to choose which issuer verifies the token.
    let unverifiedIssuer: String?

    enum Failure: Error, Equatable {
        case notJWS
        case malformed(String)
    }

    /// Three non-empty base64url segments (no padding: RFC 7515 §2), decoded by jwt-kit's parser.
    init(_ token: String) throws(Failure) {
        // On UTF-8 bytes: splitting the String itself walks grapheme clusters (12% of a verification).
        let segments = token.utf8.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw .notJWS }
        guard segments.allSatisfy({ !$0.isEmpty && Self.isBase64URL($0) }) else { throw .malformed("not base64url") }
        do {
            let parsed = try DefaultJWTParser().parse(Array(token.utf8), as: UnverifiedIssuer.self)
            header = parsed.header
            unverifiedIssuer = parsed.payload.iss
        } catch {
            throw .malformed("header or payload is not a JSON object")
        }
    }

    /// Only `iss`, and only for routing.
    private struct UnverifiedIssuer: JWTPayload {
        let iss: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyCodingKey.self)
            iss = try? c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "iss"))
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func isBase64URL(_ segment: String.UTF8View.SubSequence) -> Bool {
        segment.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
            default: false
            }
        }
    }
}
