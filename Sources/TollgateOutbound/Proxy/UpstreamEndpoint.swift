import Foundation

/// Where one outbound server's proxied requests go, parsed once when the server is built: the
/// connection target, the base path every caller path is joined to, and the `Host` header.
struct UpstreamEndpoint: Sendable, Hashable {
    let host: String
    let port: Int
    let usesTLS: Bool
    /// Always ends with `/`.
    let basePath: String
    let hostHeader: String

    init?(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return nil }
        usesTLS = scheme == "https"
        let defaultPort = usesTLS ? 443 : 80
        port = components.port ?? defaultPort
        // URLComponents keeps IPv6 literals bracketed in `host` on Linux and unbracketed elsewhere.
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let bracketed = self.host.contains(":") ? "[\(self.host)]" : self.host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        basePath = path.hasSuffix("/") ? path : path + "/"
    }

    /// The absolute URL of `target` (a path with query) on this peer, for trace spans.
    func url(_ target: String) -> String {
        (usesTLS ? "https://" : "http://") + hostHeader + target
    }
}
