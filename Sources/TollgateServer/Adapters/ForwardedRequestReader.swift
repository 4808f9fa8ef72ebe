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
    /// Whether any rule names a host; otherwise it is not worked out.
    let readsHost: Bool

    enum Outcome {
        case facts(RequestFacts)
        /// Nothing says which request this is: no rule can match.
        case unknown
        /// Forwarded headers contradict each other or are not a method/path.
        case conflicting(String)
    }

    func read(_ request: Request, context: TollgateRequestContext) -> Outcome {
        var forwarded = Forwarded(request.headers)
        if forwarded.isPresent {
            if trustedProxies.contains(context.peerAddress) {
                if let problem = forwarded.disagreement { return .conflicting(problem) }
            } else {
                context.logger.debug("forwarded request headers ignored: the peer is not in forward_auth.trusted_proxies")
                forwarded = Forwarded()
            }
        }
        let method = forwarded.method ?? request.method.rawValue
        guard !method.isEmpty, method.utf8.count <= 32,
              method.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            return .conflicting("the forwarded method is not an HTTP method")
        }
        let host = readsHost ? forwarded.xForwardedHost ?? request.head.authority : nil
        let uri: Substring
        if let forwardedURI = forwarded.uri {
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

    /// The five forwarded headers, read in one pass over the request's fields.
    private struct Forwarded {
        var xForwardedMethod: String?
        var xForwardedURI: String?
        var xForwardedHost: String?
        var xOriginalMethod: String?
        var xOriginalURI: String?
        var repeated: HTTPField.Name?

        init() {}

        init(_ headers: HTTPFields) {
            for field in headers {
                switch field.name {
                case .xForwardedMethod: repeated = xForwardedMethod == nil ? repeated : field.name; xForwardedMethod = field.value
                case .xForwardedURI: repeated = xForwardedURI == nil ? repeated : field.name; xForwardedURI = field.value
                case .xForwardedHost: repeated = xForwardedHost == nil ? repeated : field.name; xForwardedHost = field.value
                case .xOriginalMethod: repeated = xOriginalMethod == nil ? repeated : field.name; xOriginalMethod = field.value
                case .xOriginalURI: repeated = xOriginalURI == nil ? repeated : field.name; xOriginalURI = field.value
                default: continue
                }
            }
        }

        var isPresent: Bool { xForwardedMethod != nil || xForwardedURI != nil || xForwardedHost != nil || xOriginalMethod != nil || xOriginalURI != nil }
        var uri: String? { xForwardedURI ?? xOriginalURI }
        var method: String? { xForwardedMethod ?? xOriginalMethod }

        /// Why the forwarded headers contradict each other, if they do.
        var disagreement: String? {
            if let repeated { return "\(repeated.canonicalName) is repeated" }
            if let a = xForwardedURI, let b = xOriginalURI, a != b,
               RequestPath.normalized(Substring(a)) != RequestPath.normalized(Substring(b)) {
                return "X-Forwarded-Uri and X-Original-URI disagree"
            }
            if let a = xForwardedMethod, let b = xOriginalMethod, a.uppercased() != b.uppercased() {
                return "X-Forwarded-Method and X-Original-Method disagree"
            }
            return nil
        }
    }
}

extension HTTPField.Name {
    static let xForwardedMethod = Self("X-Forwarded-Method")!
    static let xForwardedURI = Self("X-Forwarded-Uri")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
    static let xOriginalMethod = Self("X-Original-Method")!
    static let xOriginalURI = Self("X-Original-URI")!
}
