import Foundation

/// URLs as Tollgate shows them (`check-config`, the status API, logs): the userinfo password and
/// the values of secret-like query parameters replaced, so credentials put in a URL never leak.
package enum URLRedaction {
    static let marker = "<redacted>"

    /// Query parameter names whose values are credentials (compared case-insensitively, and as
    /// suffixes, so `client_secret` and `x-api-key` count).
    static let secretNames = ["secret", "password", "passwd", "pwd", "token", "key", "signature", "sig", "assertion", "credential", "code", "auth"]

    package static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.host != nil else {
            // Not a URL we can take apart: show it only if nothing in it looks like a credential.
            return text.contains("@") || text.contains("?") ? marker : text
        }
        if components.password != nil { components.password = marker }
        if let items = components.queryItems {
            components.queryItems = items.map { item in
                isSecretName(item.name) && item.value != nil ? URLQueryItem(name: item.name, value: marker) : item
            }
        }
        return (components.string ?? marker).replacingOccurrences(of: "%3Credacted%3E", with: marker)
    }

    static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return secretNames.contains { lower == $0 || lower.hasSuffix("_" + $0) || lower.hasSuffix("-" + $0) || lower.hasPrefix($0 + "_") }
    }
}
