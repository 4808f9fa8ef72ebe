package import AsyncHTTPClient
import Foundation
package import NIOCore
package import TollgateKit

/// The members of an OpenID/RFC 8414 metadata document Tollgate uses.
package struct DiscoveryDocument: Decodable, Sendable {
    package let issuer: String
    package let introspectionEndpoint: String?
    package let authorizationEndpoint: String?
    package let jwksURI: String?
    package let tokenEndpoint: String?
    package let userinfoEndpoint: String?
    /// RFC 7009 (as RFC 8414 names it).
    package let revocationEndpoint: String?

    enum CodingKeys: String, CodingKey {
        case issuer
        case introspectionEndpoint = "introspection_endpoint"
        case authorizationEndpoint = "authorization_endpoint"
        case jwksURI = "jwks_uri"
        case tokenEndpoint = "token_endpoint"
        case userinfoEndpoint = "userinfo_endpoint"
        case revocationEndpoint = "revocation_endpoint"
    }
}

package enum DiscoveryError: Error, CustomStringConvertible {
    case fetch(FetchFailure)
    case unreadable
    case issuerMismatch

    package var description: String {
        switch self {
        case .fetch(.timeout): "discovery request timed out"
        case .fetch(.status(let code)): "discovery answered HTTP \(code)"
        case .fetch: "discovery endpoint unreachable"
        case .unreadable: "discovery document unreadable"
        case .issuerMismatch: "discovery document names a different issuer"
        }
    }
}

package enum Discovery {
    /// Fetches `<issuer>/.well-known/openid-configuration`; the document must name the same issuer exactly.
    package static func fetch(issuer: String, client: HTTPClient, timeout: TimeAmount) async -> Result<DiscoveryDocument, DiscoveryError> {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        var request = HTTPClientRequest(url: base + "/.well-known/openid-configuration")
        request.headers.add(name: "Accept", value: "application/json")
        switch await HTTPFetch.send(request, client: client, timeout: timeout, call: "discovery") {
        case .failure(let failure):
            return .failure(.fetch(failure))
        case .success(let fetched):
            let (status, body) = (fetched.status, fetched.body)
            guard status == 200 else { return .failure(.fetch(.status(status))) }
            guard let document = try? StrictJSON.decode(DiscoveryDocument.self, from: body.readableBytesView) else {
                return .failure(.unreadable)
            }
            guard document.issuer == issuer else { return .failure(.issuerMismatch) }
            return .success(document)
        }
    }
}
