import Crypto
import HTTPTypes
import Hummingbird
import Logging

/// `admin.auth_mode` for `/dicomweb-oauth/*`, `/token*` and `/proxy/*`.
struct AdminGuard: Sendable {
    private enum Check: Sendable {
        case open
        case apiKeys([SHA256.Digest])
        case bearer(InboundAuthenticator, scope: String?)
    }

    private let check: Check

    init(config: AdminConfig, authenticator: InboundAuthenticator) {
        switch config.authMode {
        case .none: check = .open
        case .apiKey: check = .apiKeys(config.apiKeys.map { SHA256.hash(data: Array($0.value.utf8)) })
        case .bearer: check = .bearer(authenticator, scope: config.requiredScope)
        }
    }

    /// Nil when the caller may proceed; otherwise the refusal to send.
    func refusal(for request: Request, context: TollgateRequestContext) async -> Response? {
        switch check {
        case .open:
            return nil
        case .apiKeys(let digests):
            let presented = request.headers[values: .xAPIKey]
            guard presented.count == 1, Self.matches(presented[0], digests) else {
                return OutboundErrorReply.response(
                    "INVALID_API_KEY", presented.isEmpty ? "X-API-Key header is required" : "X-API-Key is not valid",
                    status: .unauthorized, requestID: context.requestID
                )
            }
            return nil
        case .bearer(let authenticator, let scope):
            let decision = await authenticator.authenticate(request, extraScopes: scope.map { [$0] } ?? [])
            return decision.isAllowed ? nil : BearerChallenge.response(for: decision)
        }
    }

    /// Compares digests so that timing reveals neither the key nor its length, and checks every
    /// configured key (rotation) without stopping at the first match.
    private static func matches(_ presented: String, _ digests: [SHA256.Digest]) -> Bool {
        let candidate = Array(SHA256.hash(data: Array(presented.utf8)))
        var found: UInt8 = 0
        for digest in digests {
            var difference: UInt8 = 0
            for (a, b) in zip(candidate, digest) { difference |= a ^ b }
            found |= difference == 0 ? 1 : 0
        }
        return found == 1
    }
}

extension HTTPField.Name {
    static let xAPIKey = Self("X-API-Key")!
}
