/// The request a proxy asks about, as the proxy reported it: its canonical path (without the
/// query), its method and its host (lower case, without port). Method and host are nil when the
/// proxy did not say: a rule that needs one of them cannot be matched, and refuses.
package struct RequestFacts: Sendable, Equatable {
    package let method: String?
    package let path: String
    package let host: String?

    /// Fails when `uri` has no single reading (`RequestPath.canonical`).
    package init(method: String?, uri: Substring, host: Substring?) throws(RequestPath.Ambiguous) {
        path = try RequestPath.canonical(uri).get()
        self.method = method.map { $0.utf8.allSatisfy { $0 < UInt8(ascii: "a") } ? $0 : $0.uppercased() }
        self.host = host.map(Self.bareHost)
    }

    /// `Example.org:8443` → `example.org`; `[::1]:80` → `[::1]`.
    package static func bareHost(_ host: Substring) -> String {
        var bytes = host.utf8.drop { $0 == UInt8(ascii: " ") }
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        let name =
            bytes.first == UInt8(ascii: "[")
            ? bytes.prefix { $0 != UInt8(ascii: "]") } + (bytes.contains(UInt8(ascii: "]")) ? [UInt8(ascii: "]")] : [])
            : Array(bytes.prefix { $0 != UInt8(ascii: ":") })
        return String(decoding: name.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
