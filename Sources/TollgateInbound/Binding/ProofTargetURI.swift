/// An `http`/`https` URI as RFC 9449 §4.3 compares `htu` with the request's: scheme and host in
/// lower case, the scheme's default port dropped, an empty path as `/`, query and fragment
/// ignored (RFC 3986 §6.2.2–6.2.3). Anything else (userinfo, another scheme, no host) does not
/// parse, so it matches nothing.
package struct ProofTargetURI: Equatable {
    let scheme: String
    let host: String
    let port: Int?
    let path: String

    package init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = text[..<colon].lowercased()
        guard scheme == "http" || scheme == "https", text[colon...].hasPrefix("://") else { return nil }
        let rest = text[text.index(colon, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
        } else if let portColon = authority.lastIndex(of: ":") {
            host = authority[..<portColon]
            port = authority[authority.index(after: portColon)...]
        }
        guard !host.isEmpty else { return nil }
        var number: Int?
        if let port, !port.isEmpty {
            guard port.count <= 5, port.allSatisfy(\.isASCII), let value = Int(port), (1...65535).contains(value) else { return nil }
            number = value
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let pathEnd = rest[authorityEnd...].firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        let path = rest[authorityEnd..<pathEnd]
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = number == defaultPort ? nil : number
        self.path = path.isEmpty ? "/" : Self.normalizingPercentEncoding(path)
    }

    /// Percent-encoded octets in upper case (`%2f` and `%2F` are the same octet).
    private static func normalizingPercentEncoding(_ path: Substring) -> String {
        guard path.contains("%") else { return String(path) }
        var out: [UInt8] = []
        var bytes = Array(path.utf8)[...]
        while let byte = bytes.popFirst() {
            out.append(byte)
            if byte == UInt8(ascii: "%"), bytes.count >= 2 {
                for _ in 0..<2 {
                    let digit = bytes.removeFirst()
                    out.append(digit >= UInt8(ascii: "a") && digit <= UInt8(ascii: "f") ? digit - 32 : digit)
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
