import TollgateKit

/// Bearer credential syntax (RFC 6750 §2.1): the one extractor every front-end uses.
package enum BearerToken {
    /// The token from a request's `Authorization` values: exactly one header, the Bearer scheme,
    /// a non-empty token. Otherwise why not, as the denial to record.
    package static func extract(fromAuthorization values: [String]) -> Result<String, DenialReason> {
        extractWithScheme(fromAuthorization: values).flatMap { token, scheme in
            scheme == .bearer ? .success(token) : .failure(.unsupportedCredential)
        }
    }

    /// The token and its scheme from a request's `Authorization` values: `Bearer` (RFC 6750) or
    /// `DPoP` (RFC 9449 §7.1), exactly one header, a non-empty token. Otherwise why not.
    package static func extractWithScheme(fromAuthorization values: [String]) -> Result<(String, TokenPresentation.Scheme), DenialReason> {
        guard let value = values.first else { return .failure(.missingToken) }
        guard values.count == 1 else { return .failure(.malformed) }
        guard let (name, credentials) = schemeAndCredentials(value[...]) else { return .failure(.unsupportedCredential) }
        let scheme: TokenPresentation.Scheme
        if ASCIIText.equalsIgnoringCase(name, lowercase: "bearer") {
            scheme = .bearer
        } else if ASCIIText.equalsIgnoringCase(name, lowercase: "dpop") {
            scheme = .dpop
        } else {
            return .failure(.unsupportedCredential)
        }
        guard let credentials else { return .failure(.malformed) }
        let token = String(ASCIIText.trimmingOWS(credentials))
        return token.isEmpty ? .failure(.malformed) : .success((token, scheme))
    }

    /// The token from an `Authorization` value; nil when the scheme is not Bearer.
    /// An empty string means "Bearer" with nothing after it.
    package static func fromAuthorization(_ value: String) -> String? {
        fromAuthorization(value[...])
    }

    package static func fromAuthorization(_ value: Substring) -> String? {
        guard let (name, credentials) = schemeAndCredentials(value), ASCIIText.equalsIgnoringCase(name, lowercase: "bearer") else { return nil }
        return credentials.map { String(ASCIIText.trimmingOWS($0)) } ?? ""
    }

    /// The scheme, after any leading spaces, up to the first space; and everything after that space
    /// (nil when nothing follows it). nil when the value is only spaces. Read over the UTF-8 bytes:
    /// a token is a kilobyte, and walking it by `Character` costs more than the rest of the answer.
    private static func schemeAndCredentials(_ value: Substring) -> (scheme: Substring, credentials: Substring?)? {
        let bytes = value.utf8
        guard let start = bytes.firstIndex(where: { $0 != UInt8(ascii: " ") }) else { return nil }
        let nameEnd = bytes[start...].firstIndex(of: UInt8(ascii: " ")) ?? bytes.endIndex
        let name = value[start..<nameEnd]
        guard nameEnd < bytes.endIndex else { return (name, nil) }
        let rest = value[bytes.index(after: nameEnd)...]
        return (name, rest.isEmpty ? nil : rest)
    }

    /// A token as a caller hands it over in a body (Orthanc's `token-value`, the filter's
    /// `tokens`): with or without its `Bearer ` scheme; nil when empty.
    package static func fromPresented(_ value: String) -> String? {
        let trimmed = ASCIIText.trimmingOWS(value[...])
        guard !trimmed.isEmpty else { return nil }
        let token = fromAuthorization(trimmed) ?? String(trimmed)
        return token.isEmpty ? nil : token
    }

    /// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    package static func isWellFormed(_ token: String) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            var index = 0
            while index < bytes.count, isTokenByte(bytes[index]) { index += 1 }
            guard index > 0 else { return false }
            while index < bytes.count, bytes[index] == UInt8(ascii: "=") { index += 1 }
            return index == bytes.count
        }
    }

    /// Bit sets over ASCII 0–63 and 64–127 (every request checks ~1 KB of token this way).
    private static let lowBytes: UInt64 = 1 << 43 | 1 << 45 | 1 << 46 | 1 << 47 | 0x3FF << 48  // + - . / 0-9
    private static let highBytes: UInt64 = 0x3FF_FFFF << 1 | 1 << 31 | 0x3FF_FFFF << 33 | 1 << 62  // A-Z _ a-z ~

    @inline(__always)
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return lowBytes >> UInt64(byte) & 1 == 1 }
        return byte < 128 && highBytes >> UInt64(byte - 64) & 1 == 1
    }
}
