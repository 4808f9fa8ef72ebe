import AsyncHTTPClient
import Foundation
import NIOCore
import TollgateKit

/// RFC 7662 client for one issuer.
struct IntrospectionClient: Sendable {
    enum Outcome: Sendable {
        case active(TokenClaims)
        case inactive
        case indeterminate(IndeterminateReason)

        /// A bounded metric label.
        var label: String {
            switch self {
            case .active: "active"
            case .inactive: "inactive"
            case .indeterminate(let reason): reason.rawValue
            }
        }
    }

    let http: HTTPClient
    let credentials: ClientCredentials
    let timeout: TimeAmount
    let claimPaths: ClaimPaths

    func introspect(_ token: String, endpoint: String) async -> Outcome {
        let request = HTTPFetch.formRequest(
            url: endpoint,
            form: [("token", token), ("token_type_hint", "access_token")],
            credentials: credentials
        )
        switch await HTTPFetch.send(request, client: http, timeout: timeout, call: "introspection") {
        case .failure(.timeout): return .indeterminate(.idpTimeout)
        case .failure(.unreadable): return .indeterminate(.idpBadResponse)
        case .failure: return .indeterminate(.idpUnavailable)
        case .success(let fetched):
            let (status, body) = (fetched.status, fetched.body)
            switch status {
            case 200:
                guard let answer = try? IntrospectionResponse(json: body.readableBytesView, claimPaths: claimPaths) else {
                    return .indeterminate(.idpBadResponse)
                }
                return answer.active ? .active(answer.claims) : .inactive
            case 400, 401, 403: return .indeterminate(.idpRejectedClient)
            case 500...: return .indeterminate(.idpUnavailable)
            default: return .indeterminate(.idpBadResponse)
            }
        }
    }
}
