import HTTPTypes
import Hummingbird
import NIOCore
import TollgateConfiguration
import TollgateInbound
import TollgateKit

/// Works out which request a proxy asks about, from the headers that proxy sets
/// (`forward_auth.proxy`, each read from the proxy's own source) and only when the peer is in
/// `trusted_proxies`; else, for Envoy's `path_prefix` (and in `auto` mode), from the path under
/// `/auth/` with the request's own method. Every header that describes the request must agree
/// with the others, and the path must have one reading (`RequestPath`): anything else is refused.
struct ForwardedRequestReader: Sendable {
    let proxy: ForwardAuthProxy
    let trustedProxies: [IPNetwork]
    /// Whether any rule names a host; otherwise it is not worked out.
    let readsHost: Bool

    enum Outcome {
        /// The guarded request. `fromPath`: it came from the path under `/auth/`, so the query
        /// string is the guarded request's, never the operator's constraints.
        case facts(RequestFacts, fromPath: Bool)
        /// Nothing says which request this is.
        case undescribed
        /// Headers describing the request came from a peer outside `trusted_proxies`.
        case untrusted
        /// Headers that contradict each other, repeat, or are not a method, URL or host.
        case conflicting(String)
        /// A path a backend could read differently.
        case ambiguous(String)
    }

    /// The header names each proxy sets, so a client cannot add one the proxy does not overwrite.
    struct Sources: OptionSet, Sendable {
        let rawValue: UInt8
        static let forwardedMethod = Self(rawValue: 1)
        static let forwardedURI = Self(rawValue: 2)
        static let forwardedHost = Self(rawValue: 4)
        static let originalMethod = Self(rawValue: 8)
        static let originalURI = Self(rawValue: 16)
        static let originalURL = Self(rawValue: 32)

        init(rawValue: UInt8) { self.rawValue = rawValue }

        init(_ proxy: ForwardAuthProxy) {
            switch proxy {
            case .auto: self = [.forwardedMethod, .forwardedURI, .forwardedHost, .originalMethod, .originalURI, .originalURL]
            case .nginx: self = [.originalMethod, .originalURI, .forwardedHost]
            case .ingressNginx: self = [.originalMethod, .originalURL]
            case .traefik, .caddy, .oauth2Proxy: self = [.forwardedMethod, .forwardedURI, .forwardedHost]
            case .envoy: self = []
            }
        }
    }

    let sources: Sources

    init(proxy: ForwardAuthProxy, trustedProxies: [IPNetwork], readsHost: Bool) {
        self.proxy = proxy
        self.trustedProxies = trustedProxies
        self.readsHost = readsHost
        var sources = Sources(proxy)
        if !readsHost { sources.remove(.forwardedHost) }
        self.sources = sources
    }

    func read(_ request: Request, peer: SocketAddress?) -> Outcome {
        let headers = Forwarded(request.headers, reading: sources)
        if headers.isPresent {
            guard trustedProxies.contains(peer) else { return .untrusted }
            if let repeated = headers.repeated { return .conflicting("\(repeated.canonicalName) is repeated") }
        }
        var method = headers.xForwardedMethod
        if let other = headers.xOriginalMethod {
            if let first = method, !Self.sameIgnoringCase(first, other) { return .conflicting("the forwarded methods disagree") }
            method = other
        }
        if let method, !Self.isMethod(method) { return .conflicting("the forwarded method is not an HTTP method") }
        var originalURL: OriginalURL?
        if let url = headers.xOriginalURL {
            guard let parsed = OriginalURL(url) else { return .conflicting("X-Original-URL is not an absolute http(s) URL") }
            originalURL = parsed
        }
        var host: Substring?
        if readsHost {
            switch headers.host(originalURL: originalURL) {
            case .failure(let problem): return .conflicting(problem.text)
            case .success(let value): host = value
            }
        }
        guard headers.hasURI else { return fromPath(request, method: method.map(String.init), host: host) }
        if proxy == .oauth2Proxy && host == nil && readsHost { host = request.head.authority.map { $0[...] } }
        // Every header naming the target must give the same canonical path.
        let methodName = method.map(String.init)
        var facts: RequestFacts?
        for uri in [headers.xForwardedURI, headers.xOriginalURI, originalURL?.pathAndQuery] {
            guard let uri else { continue }
            do throws(RequestPath.Ambiguous) {
                let candidate = try RequestFacts(method: methodName, uri: uri, host: host)
                if let facts, facts.path != candidate.path { return .conflicting("the forwarded URIs name different paths") }
                facts = candidate
            } catch {
                return .ambiguous(error.reason)
            }
        }
        return facts.map { .facts($0, fromPath: false) } ?? .undescribed
    }

    /// Envoy's `path_prefix` (and Oathkeeper's `/decisions`): the path under `/auth/`, with the
    /// request's own method (unless `auto` found a forwarded one) and `Host`.
    private func fromPath(_ request: Request, method: String?, host: Substring?) -> Outcome {
        guard proxy == .auto || proxy == .envoy else { return .undescribed }
        let path = request.uri.path
        guard path.hasPrefix("/auth/") else { return .undescribed }
        let host = host ?? (readsHost ? request.head.authority.map { $0[...] } : nil)
        do throws(RequestPath.Ambiguous) {
            return .facts(try RequestFacts(method: method ?? request.method.rawValue, uri: path.dropFirst(5), host: host), fromPath: true)
        } catch {
            return .ambiguous(error.reason)
        }
    }

    /// The guarded request as a DPoP proof must name it (`htm`, `htu`), from a trusted proxy's
    /// headers only: `X-Original-URL`, or `X-Forwarded-Proto` + `X-Forwarded-Host` + the forwarded
    /// URI (for Envoy's path prefix: its `Host` and the path under `/auth/`), and the forwarded
    /// method. Nil when the peer is not trusted or a part is missing or repeated: no proof matches.
    func proofTarget(_ request: Request, peer: SocketAddress?) -> ProofTarget? {
        guard trustedProxies.contains(peer) else { return nil }
        let fields = request.headers
        func single(_ name: HTTPField.Name, _ source: Sources? = nil) -> String? {
            if let source, !sources.contains(source) { return nil }
            let values = fields[values: name]
            return values.count == 1 && !values[0].isEmpty ? values[0] : nil
        }
        let forwardedURI = single(.xForwardedURI, .forwardedURI) ?? single(.xOriginalURI, .originalURI)
        let pathMode = (proxy == .auto || proxy == .envoy) && forwardedURI == nil && request.uri.path.hasPrefix("/auth/")
        guard
            let method = single(.xForwardedMethod, .forwardedMethod) ?? single(.xOriginalMethod, .originalMethod) ?? (pathMode ? request.method.rawValue : nil),
            Self.isMethod(method[...])
        else { return nil }
        if let url = single(.xOriginalURL, .originalURL) { return OriginalURL(url[...]) == nil ? nil : ProofTarget(method: method, uri: url) }
        guard let scheme = single(.xForwardedProto)?.lowercased(), scheme == "http" || scheme == "https",
            let host = single(.xForwardedHost) ?? (pathMode ? request.head.authority : nil), !host.contains(","),
            let uri = forwardedURI ?? (pathMode ? String(request.uri.path.dropFirst(5)) : nil), uri.hasPrefix("/")
        else { return nil }
        return ProofTarget(method: method, uri: scheme + "://" + host + uri)
    }

    /// Whether the auth URL's query string is the operator's (the guarded request's own query
    /// never is): not below `/auth/` in Envoy's or `auto`'s path-prefix reading.
    func queryIsOperators(_ request: Request, factsFromPath: Bool?) -> Bool {
        switch proxy {
        case .envoy: return false
        case .auto:
            if let factsFromPath { return !factsFromPath }
            return !request.uri.path.hasPrefix("/auth/") || Forwarded(request.headers, reading: sources).hasURI
        default: return true
        }
    }

    struct Problem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    private static func sameIgnoringCase(_ a: Substring, _ b: Substring) -> Bool {
        a.utf8.elementsEqual(b.utf8) { ($0 | 0x20) == ($1 | 0x20) }
    }

    private static func isMethod(_ method: Substring) -> Bool {
        !method.isEmpty && method.utf8.count <= 32 && method.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }

    /// The describing headers this proxy sets, read in one pass over the request's fields.
    private struct Forwarded {
        var xForwardedMethod: Substring?
        var xForwardedURI: Substring?
        var xForwardedHost: Substring?
        var xOriginalMethod: Substring?
        var xOriginalURI: Substring?
        var xOriginalURL: Substring?
        var repeated: HTTPField.Name?

        init(_ headers: HTTPFields, reading sources: Sources) {
            guard !sources.isEmpty else { return }
            for field in headers {
                switch field.name {
                case .xForwardedMethod where sources.contains(.forwardedMethod): Self.note(&xForwardedMethod, field, &repeated)
                case .xForwardedURI where sources.contains(.forwardedURI): Self.note(&xForwardedURI, field, &repeated)
                case .xForwardedHost where sources.contains(.forwardedHost): Self.note(&xForwardedHost, field, &repeated)
                case .xOriginalMethod where sources.contains(.originalMethod): Self.note(&xOriginalMethod, field, &repeated)
                case .xOriginalURI where sources.contains(.originalURI): Self.note(&xOriginalURI, field, &repeated)
                case .xOriginalURL where sources.contains(.originalURL): Self.note(&xOriginalURL, field, &repeated)
                default: continue
                }
            }
        }

        private static func note(_ slot: inout Substring?, _ field: HTTPField, _ repeated: inout HTTPField.Name?) {
            if slot != nil { repeated = field.name }
            slot = field.value[...]
        }

        var isPresent: Bool {
            xForwardedMethod != nil || xForwardedURI != nil || xForwardedHost != nil || xOriginalMethod != nil || xOriginalURI != nil || xOriginalURL != nil
        }

        var hasURI: Bool { xForwardedURI != nil || xOriginalURI != nil || xOriginalURL != nil }

        /// The one host the headers name (a list means someone appended to a client's value).
        func host(originalURL: OriginalURL?) -> Result<Substring?, Problem> {
            let names = [xForwardedHost, originalURL?.authority].compactMap { $0 }
            for name in names where name.contains(",") || name.allSatisfy({ $0 == " " }) {
                return .failure(Problem("the forwarded host is not one host name"))
            }
            guard let first = names.first else { return .success(nil) }
            for name in names.dropFirst() where RequestFacts.bareHost(name) != RequestFacts.bareHost(first) {
                return .failure(Problem("X-Forwarded-Host and X-Original-URL name different hosts"))
            }
            return .success(first)
        }
    }

    /// ingress-nginx's `X-Original-URL: $scheme://$http_host$request_uri`.
    private struct OriginalURL {
        let authority: Substring
        let pathAndQuery: Substring

        init?(_ url: Substring) {
            let lower = url.prefix(8).lowercased()
            let rest: Substring
            if lower.hasPrefix("https://") { rest = url.dropFirst(8) } else if lower.hasPrefix("http://") { rest = url.dropFirst(7) } else { return nil }
            let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            authority = rest[..<end]
            guard !authority.isEmpty, !authority.contains("@") else { return nil }
            let target = rest[end...]
            pathAndQuery = target.first == "/" ? target : target.isEmpty ? "/" : Substring("/" + target)
        }
    }
}

extension HTTPField.Name {
    static let xForwardedMethod = Self("X-Forwarded-Method")!
    static let xForwardedURI = Self("X-Forwarded-Uri")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
    static let xOriginalMethod = Self("X-Original-Method")!
    static let xOriginalURI = Self("X-Original-URI")!
    static let xOriginalURL = Self("X-Original-URL")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}
