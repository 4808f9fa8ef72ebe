import HTTPTypes
import Hummingbird
import TollgateInbound
import TollgateKit

/// Works out which request a proxy asks about. In order of precedence:
/// `X-Forwarded-Method`/`-Uri`/`-Host` (Traefik, Oathkeeper) and `X-Original-Method`/`-URI`
/// (nginx), honoured only from `trusted_proxies`; then the path under `/auth/` with the
/// request's own method (Envoy's `path_prefix`, Oathkeeper's `/decisions`). Two forwarded
/// headers that disagree are refused: one of them came from the client.
struct ForwardedRequestReader: Sendable {
    let trustedProxies: [IPNetwork]

    enum Outcome {
        case facts(RequestFacts)
        /// Nothing says which request this is: no rule can match.
        case unknown
        /// Forwarded headers contradict each other or are not a method/path.
        case conflicting(String)
    }

    func read(_ request: Request, context: TollgateRequestContext) -> Outcome {
        let headers = request.headers
        var forwardedURI = headers[.xForwardedURI] ?? headers[.xOriginalURI]
        var forwardedMethod = headers[.xForwardedMethod] ?? headers[.xOriginalMethod]
        var forwardedHost = headers[.xForwardedHost]
        if forwardedURI != nil || forwardedMethod != nil || forwardedHost != nil {
            if trustedProxies.contains(context.peerAddress) {
                if let problem = Self.disagreement(headers) { return .conflicting(problem) }
            } else {
                context.logger.debug("forwarded request headers ignored: the peer is not in forward_auth.trusted_proxies")
                (forwardedURI, forwardedMethod, forwardedHost) = (nil, nil, nil)
            }
        }
        let method = forwardedMethod ?? request.method.rawValue
        guard method.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }), !method.isEmpty, method.utf8.count <= 32 else {
            return .conflicting("the forwarded method is not an HTTP method")
        }
        let host = forwardedHost ?? request.head.authority
        let uri: Substring
        if let forwardedURI {
            uri = Substring(forwardedURI)
        } else {
            let path = request.uri.path
            guard path.hasPrefix("/auth/") else { return .unknown }
            uri = path.dropFirst(5)
        }
        guard let facts = RequestFacts(method: method, uri: uri, host: host.map { $0[...] }) else {
            return .conflicting("the forwarded URI is not a path")
        }
        return .facts(facts)
    }

    /// Why the forwarded headers contradict each other, if they do.
    private static func disagreement(_ headers: HTTPFields) -> String? {
        if let a = headers[.xForwardedURI], let b = headers[.xOriginalURI],
           RequestPath.normalized(Substring(a)) != RequestPath.normalized(Substring(b)) {
            return "X-Forwarded-Uri and X-Original-URI disagree"
        }
        if let a = headers[.xForwardedMethod], let b = headers[.xOriginalMethod], a.uppercased() != b.uppercased() {
            return "X-Forwarded-Method and X-Original-Method disagree"
        }
        for name in [HTTPField.Name.xForwardedURI, .xOriginalURI, .xForwardedMethod, .xOriginalMethod, .xForwardedHost] where headers[values: name].count > 1 {
            return "\(name.canonicalName) is repeated"
        }
        return nil
    }
}

extension HTTPField.Name {
    static let xForwardedMethod = Self("X-Forwarded-Method")!
    static let xForwardedURI = Self("X-Forwarded-Uri")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
    static let xOriginalMethod = Self("X-Original-Method")!
    static let xOriginalURI = Self("X-Original-URI")!
}
