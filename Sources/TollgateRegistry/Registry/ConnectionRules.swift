import Foundation
import TollgateConfiguration
import TollgateKit

/// What a connection's names, URLs and scopes must be, wherever they come from.
package enum ConnectionRules {
    package static func checkName(_ name: String) throws(RegistryError) {
        guard isIdentifier(name, allowingDots: false) else {
            throw RegistryError(.invalidRequest, "connection_name must be 1–64 of A–Z, a–z, 0–9, - and _")
        }
    }

    /// 1–64 of A–Z, a–z, 0–9, `-`, `_` (and `.` when allowed): names that travel in paths and headers.
    package static func isIdentifier(_ text: String, allowingDots: Bool) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F || (allowingDots && byte == 0x2E)
            }
    }

    package static func checkURL(_ value: String?, _ key: String) throws(RegistryError) {
        guard let value else { return }
        guard TollgateConfig.isHTTPURL(value) else { throw RegistryError(.invalidRequest, "\(key) must be an absolute http(s) URL") }
        // A URL is stored and shown as it is (redacted in answers, but in clear in the store):
        // credentials belong in the sealed fields.
        if let components = URLComponents(string: value) {
            guard components.user == nil, components.password == nil else {
                throw RegistryError(.invalidRequest, "\(key) must not carry user:password@: send the secret in client_secret")
            }
            if let name = components.queryItems?.map({ $0.name.lowercased() }).first(where: Self.isCredentialParameter) {
                throw RegistryError(
                    .invalidRequest, "\(key) must not carry a \(PrintableText.clean(name, limit: 40)) parameter: credentials belong in the sealed fields")
            }
        }
    }

    /// Query parameters that carry a credential (RFC 6749 and common API-key conventions).
    package static func isCredentialParameter(_ name: String) -> Bool {
        let exact: Set<String> = [
            "client_secret", "secret", "password", "passwd", "pwd", "token", "access_token", "refresh_token", "id_token",
            "api_key", "apikey", "api-key", "key", "code", "assertion", "client_assertion", "sig", "signature",
        ]
        return exact.contains(name) || name.hasSuffix("_secret") || name.hasSuffix("_token") || name.hasSuffix("password")
    }

    /// Seed 002 writes scopes comma-separated; the token request wants them space-separated.
    package static func normalizedScopes(_ value: String?) -> String {
        (value ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).joined(separator: " ")
    }

    static func checkedRefreshToken(_ token: String) throws -> String {
        guard (1...8192).contains(token.utf8.count), token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RegistryError(.invalidRequest, "refresh_token must be 1–8192 visible ASCII characters")
        }
        return token
    }
}
