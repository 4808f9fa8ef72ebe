import TollgateKit

/// The request a proxy asks about: its method, its path (normalised, without the query) and its
/// host (lower case, without port), as the proxy reported them.
public struct RequestFacts: Sendable, Equatable {
    public let method: String
    public let path: String
    public let host: String?

    /// Nil when `uri` is not an origin-form request target (`/path?query`).
    public init?(method: String, uri: Substring, host: Substring?) {
        guard let path = RequestPath.normalized(uri) else { return nil }
        self.method = method.utf8.allSatisfy { $0 < UInt8(ascii: "a") } ? method : method.uppercased()
        self.path = path
        self.host = host.map(Self.bareHost)
    }

    /// `Example.org:8443` → `example.org`; `[::1]:80` → `[::1]`; the first of a list.
    static func bareHost(_ host: Substring) -> String {
        var bytes = host.utf8.prefix { $0 != UInt8(ascii: ",") }.drop { $0 == UInt8(ascii: " ") }
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        let name = bytes.first == UInt8(ascii: "[")
            ? bytes.prefix { $0 != UInt8(ascii: "]") } + (bytes.contains(UInt8(ascii: "]")) ? [UInt8(ascii: "]")] : [])
            : Array(bytes.prefix { $0 != UInt8(ascii: ":") })
        return String(decoding: name.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// What the upstream will resolve a raw request path to, so that a rule written for `/admin`
/// also sees `/public/../admin`, `/%61dmin` and `//admin` (nginx's `$request_uri` is raw).
public enum RequestPath {
    /// The path without query or fragment: unreserved characters percent-decoded (RFC 3986
    /// §6.2.2.2), other escapes upper-cased, dot segments removed (§5.2.4), repeated slashes
    /// merged. Nil when it is not a path: no leading `/`, a control character, a bad escape.
    public static func normalized(_ uri: Substring) -> String? {
        let raw = uri.utf8.prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        guard raw.first == UInt8(ascii: "/") else { return nil }
        if isAlreadyNormal(raw) { return String(Substring(raw)) }
        guard let decoded = decodeUnreserved(Array(raw)) else { return nil }
        var segments: [Substring] = []
        let parts = decoded.split(separator: "/", omittingEmptySubsequences: true)
        for part in parts {
            switch part {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        let trailing = decoded.hasSuffix("/") || parts.last == "." || parts.last == ".."
        let joined = "/" + segments.joined(separator: "/")
        return trailing && !segments.isEmpty ? joined + "/" : joined
    }

    /// Printable, no escapes, no `/.` and no `//`: the common case, checked in one pass.
    private static func isAlreadyNormal(_ raw: Substring.UTF8View.SubSequence) -> Bool {
        var previous: UInt8 = 0
        for byte in raw {
            guard byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "%") else { return false }
            if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return false }
            previous = byte
        }
        return true
    }

    private static func decodeUnreserved(_ bytes: [UInt8]) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte > 0x20 && byte < 0x7F else { return nil }
            guard byte == UInt8(ascii: "%") else { out.append(byte); index += 1; continue }
            guard index + 2 < bytes.count, let high = FormEncoding.hexValue(bytes[index + 1]), let low = FormEncoding.hexValue(bytes[index + 2]) else { return nil }
            let value = high << 4 | low
            if isUnreserved(value) {
                out.append(value)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hexDigit(high), hexDigit(low)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 { Array("0123456789ABCDEF".utf8)[Int(value)] }
}
