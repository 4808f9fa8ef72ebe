/// Header names with fixed meaning for a proxy (RFC 9110 §7.6.1), shared by the proxy itself and
/// the validation of the headers a config lets through it.
package enum HeaderRules {
    package static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Never forwarded upstream whatever an allowlist says: hop-by-hop, the caller's credentials,
    /// and what the proxy sets itself.
    package static let neverForwarded: Set<String> = hopByHop.union(["authorization", "cookie", "host", "x-api-key", "x-request-id"])

    /// Not settable as a static upstream header: hop-by-hop, the token Tollgate injects, and what
    /// the proxy derives itself.
    package static let notStatic: Set<String> = hopByHop.union(["authorization", "host", "content-length", "x-request-id"])

    /// RFC 9110 token characters only.
    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }
    }

    /// Values that came from a token or an IdP: never let one split a header (no control characters).
    package static func isSafeValue(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}
