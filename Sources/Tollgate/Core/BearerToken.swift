import Foundation

/// Bearer credential syntax (RFC 6750 §2.1) shared by every front-end.
public enum BearerToken {
    /// The token from an `Authorization` value; nil when the scheme is not Bearer.
    /// An empty string means "Bearer" with nothing after it.
    public static func fromAuthorization(_ value: some StringProtocol) -> String? {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let scheme = parts.first, scheme.lowercased() == "bearer" else { return nil }
        guard parts.count == 2 else { return "" }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    public static func isWellFormed(_ token: String) -> Bool {
        var sawPadding = false
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if sawPadding { return false }
            case UInt8(ascii: "="):
                sawPadding = true
            default:
                return false
            }
        }
        return !token.isEmpty && token.utf8.first != UInt8(ascii: "=")
    }
}

