import TollgateKit

/// Joins a caller's path onto an upstream base URL without letting it climb out: no `.` or `..`
/// segments (plain or percent-encoded), no encoded slashes or backslashes. The query is kept
/// byte for byte.
enum ProxyTarget {
    enum Rejection: Error, Equatable {
        case traversal
        case badEncoding
    }

    /// `base` is a URL or, for the proxy's own pool, a base path ending in `/`.
    static func url(base: String, path: Substring, query: String?) throws(Rejection) -> String {
        var rest = path
        while rest.first == "/" { rest.removeFirst() }
        for segment in rest.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.contains("\\") { throw .traversal }
            guard let decoded = FormEncoding.decodePath(String(segment)) else { throw .badEncoding }
            if decoded == "." || decoded == ".." || decoded.contains("/") || decoded.contains("\\") { throw .traversal }
        }
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return prefix + rest + (query.map { "?" + $0 } ?? "")
    }
}
