import Foundation
import NIOHTTP1

/// `client_assertion_file`: a client assertion (RFC 7521 §4.2, RFC 7523 §2.2) that someone else
/// signs and rotates, such as the service-account token AKS or EKS workload identity projects into
/// the pod (`AZURE_FEDERATED_TOKEN_FILE`). Read again for every token request, never kept.
struct ClientAssertionFileAuthentication: TokenRequestAuthentication {
    let clientID: String
    let path: String

    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws {
        let assertion = try Self.assertion(from: CredentialFile.read(path), path: path)
        form += [("client_id", clientID), ("client_assertion_type", PrivateKeyJWTAuthentication.assertionType), ("client_assertion", assertion)]
    }

    /// The file's JWT, trimmed; anything that is not three base64url segments is refused here
    /// rather than sent to the IdP.
    static func assertion(from data: Data, path: String) throws -> String {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        let base64url = { (byte: UInt8) in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
        }
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(base64url) }) else {
            throw CredentialUnavailable(detail: "\(path) does not hold a JWT")
        }
        return text
    }
}
