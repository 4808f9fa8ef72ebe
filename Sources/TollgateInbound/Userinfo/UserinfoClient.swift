import AsyncHTTPClient
import Foundation
import NIOCore
import TollgateKit

/// One OIDC userinfo request (OIDC Core §5.3) with the caller's own token. The answer is
/// untrusted text: only the configured claims are kept, as short printable strings.
struct UserinfoClient: Sendable {
    enum Failure: Error, Equatable {
        case unreachable
        case timeout
        case status(UInt)
        case unreadable
        /// §5.3.2: the answer's `sub` must be the token's.
        case subjectMismatch

        var label: String {
            switch self {
            case .unreachable: "unreachable"
            case .timeout: "timeout"
            case .status: "status"
            case .unreadable: "unreadable"
            case .subjectMismatch: "subject_mismatch"
            }
        }

        var description: String {
            switch self {
            case .unreachable: "userinfo endpoint unreachable"
            case .timeout: "userinfo endpoint timed out"
            case .status(let code): "userinfo endpoint answered HTTP \(code)"
            case .unreadable: "userinfo answer is not a JSON object with a sub"
            case .subjectMismatch: "userinfo sub differs from the token's"
            }
        }
    }

    /// Longest claim value kept; longer values are cut (they end up in headers and logs).
    static let maxValueLength = 256

    let http: HTTPClient
    let timeout: TimeAmount
    let claims: [String]

    /// The configured claims of the user, with `sub`; fails if `sub` is missing or not `subject`.
    func fetch(token: String, endpoint: String, subject: String?) async -> Result<[String: String], Failure> {
        var request = HTTPClientRequest(url: endpoint)
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Accept", value: "application/json")
        switch await HTTPFetch.send(request, client: http, timeout: timeout, call: "userinfo") {
        case .failure(.timeout): return .failure(.timeout)
        case .failure(.status(let code)): return .failure(.status(code))
        case .failure(.unreadable): return .failure(.unreadable)
        case .failure: return .failure(.unreachable)
        case .success(let response):
            guard response.status == 200 else { return .failure(.status(response.status)) }
            guard let object = try? StrictJSON.object(response.body.readableBytesView),
                let sub = Self.text(object["sub"]), !sub.isEmpty
            else { return .failure(.unreadable) }
            if let subject, subject != sub { return .failure(.subjectMismatch) }
            var kept = ["sub": sub]
            for claim in claims {
                if let value = Self.text(object[claim]) { kept[claim] = value }
            }
            return .success(kept)
        }
    }

    /// Strings, numbers and booleans as text without control characters; anything else is dropped.
    static func text(_ value: JSONNode?) -> String? {
        let raw: String
        switch value {
        case .string(let string): raw = string
        case .number(let number) where number.isFinite:
            raw = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): raw = flag ? "true" : "false"
        default: return nil
        }
        let kept = raw.unicodeScalars.filter { scalar in
            !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029)
        }
        return String(String.UnicodeScalarView(kept.prefix(maxValueLength)))
    }
}
