import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateConfiguration
import TollgateKit
import X509

/// The client certificate a TLS-terminating proxy forwards, for certificate-bound tokens
/// (RFC 8705 §3), as the base64url SHA-256 of its DER (`x5t#S256`). Read only from a peer in
/// `trusted_proxies`, from exactly one header value that holds a certificate; anything else is
/// no certificate, so a bound token is refused.
struct ForwardedCertificate: Sendable {
    let header: HTTPField.Name
    let format: ForwardedCertificateConfig.Format
    let trustedProxies: [IPNetwork]

    init?(config: ForwardedCertificateConfig?, trustedProxies: [IPNetwork]) {
        guard let config, let header = HTTPField.Name(config.header) else { return nil }
        self.header = header
        self.format = config.format
        self.trustedProxies = trustedProxies
    }

    func thumbprint(_ request: Request, peer: SocketAddress?) -> String? {
        guard trustedProxies.contains(peer) else { return nil }
        let values = request.headers[values: header]
        guard values.count == 1 else { return nil }
        return Self.thumbprint(of: values[0], format: format)
    }

    static func thumbprint(of value: String, format: ForwardedCertificateConfig.Format) -> String? {
        switch format {
        case .pem: return der(pem: value).map(digest)
        case .derBase64: return der(base64: value).map(digest)
        case .xfcc: return xfcc(value)
        }
    }

    static func digest(_ der: [UInt8]) -> String { Base64URL.sha256(bytes: der) }

    /// A PEM certificate, URL-encoded (nginx's `$ssl_client_escaped_cert`) or as it is.
    private static func der(pem value: String) -> [UInt8]? {
        let text = value.contains("%") ? value.removingPercentEncoding ?? "" : value
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end), start.upperBound <= stop.lowerBound,
            text.components(separatedBy: begin).count == 2
        else { return nil }
        return der(base64: String(text[start.upperBound..<stop.lowerBound]))
    }

    /// Base64 DER (whitespace allowed), URL-encoded or not, that parses as one X.509 certificate.
    private static func der(base64 value: String) -> [UInt8]? {
        let text = value.contains("%") ? value.removingPercentEncoding ?? "" : value
        let compact = text.filter { !$0.isWhitespace }
        guard compact.utf8.count <= 16_384, let data = Data(base64Encoded: compact) else { return nil }
        let bytes = [UInt8](data)
        guard (try? Certificate(derEncoded: bytes)) != nil else { return nil }
        return bytes
    }

    /// Envoy's `X-Forwarded-Client-Cert`: exactly one element (`forward_client_cert_details:
    /// SANITIZE_SET`), its `Hash` (hex SHA-256 of the DER), else its `Cert` (URL-encoded PEM).
    private static func xfcc(_ value: String) -> String? {
        let elements = split(value, on: ",")
        guard elements.count == 1 else { return nil }
        var hash: String?
        var cert: String?
        for pair in split(elements[0], on: ";") {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let key = pair[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var item = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if item.hasPrefix("\""), item.hasSuffix("\""), item.count >= 2 { item = String(item.dropFirst().dropLast()) }
            switch key {
            case "hash": hash = item
            case "cert": cert = item
            default: continue
            }
        }
        if let hash {
            guard hash.utf8.count == 64, let bytes = hexBytes(hash) else { return nil }
            return Base64URL.encode(bytes)
        }
        return cert.flatMap { der(pem: $0) }.map(digest)
    }

    /// Splits on `separator` outside double quotes.
    private static func split(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == separator && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    private static func hexBytes(_ hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var digits = hex.utf8.makeIterator()
        while let high = digits.next(), let low = digits.next() {
            guard let h = FormEncoding.hexValue(high), let l = FormEncoding.hexValue(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }
}
