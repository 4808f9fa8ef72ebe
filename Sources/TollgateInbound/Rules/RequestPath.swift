import TollgateKit

/// The one canonical form of a guarded path, or a refusal when a backend could read the path
/// differently from the rules. nginx's `$request_uri` and `X-Forwarded-Uri` are raw, and Orthanc
/// (CivetWeb and its own URI parser), like most backends, decodes `%2F`, `%5C` and `\` before it
/// resolves `..`: a path whose meaning depends on who decodes it is refused, never guessed.
package enum RequestPath {
    /// Why a path has no single reading.
    package struct Ambiguous: Error, Equatable, Sendable {
        package let reason: String
    }

    /// The path without query: unreserved characters percent-decoded once (RFC 3986 §6.2.2.2),
    /// other escapes upper-cased, raw non-ASCII percent-encoded, repeated slashes merged, dot
    /// segments removed (§5.2.4). Refused: encoded `/` or `\`, a raw `\`, `;` (raw or encoded),
    /// a fragment, control characters and NUL (raw or encoded), dot segments made of encoded
    /// dots, double encoding (`%25` and two hex digits), bad escapes, invalid or overlong UTF-8,
    /// `..` above the root, and anything that is not an origin-form path.
    package static func canonical(_ uri: Substring) -> Result<String, Ambiguous> {
        let raw = uri.utf8.prefix { $0 != UInt8(ascii: "?") }
        guard raw.first == UInt8(ascii: "/") else { return .failure(Ambiguous(reason: "not an origin-form path")) }
        if isAlreadyCanonical(raw) { return .success(String(Substring(raw))) }
        var walker = Walker()
        return walker.walk(Array(raw))
    }

    /// Printable, none of `% \ ; #`, no `/.` and no `//`: the common case, checked in one pass.
    private static func isAlreadyCanonical(_ raw: Substring.UTF8View.SubSequence) -> Bool {
        var previous: UInt8 = 0
        for byte in raw {
            guard byte > 0x20 && byte < 0x7F, !isSpecial(byte) else { return false }
            if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return false }
            previous = byte
        }
        return true
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "#")
    }

    /// One pass over the raw bytes, segment by segment.
    private struct Walker {
        var segments: [[UInt8]] = []
        var segment: [UInt8] = []
        /// The current segment had a `%2E`: it may not become `.` or `..`.
        var segmentHasEncodedDot = false
        var sawEmptySegment = false
        /// Every byte decoded (escapes included), kept only to validate UTF-8 when one is not ASCII.
        var decoded: [UInt8] = []
        var hasNonASCII = false

        mutating func walk(_ bytes: [UInt8]) -> Result<String, Ambiguous> {
            decoded.reserveCapacity(bytes.count)
            var index = 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "/") {
                    if let refusal = endSegment() { return .failure(refusal) }
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < bytes.count, let high = FormEncoding.hexValue(bytes[index + 1]),
                        let low = FormEncoding.hexValue(bytes[index + 2])
                    else {
                        return .failure(Ambiguous(reason: "a malformed percent escape"))
                    }
                    let value = high << 4 | low
                    if value == UInt8(ascii: "%"), index + 4 < bytes.count,
                        FormEncoding.hexValue(bytes[index + 3]) != nil, FormEncoding.hexValue(bytes[index + 4]) != nil
                    {
                        return .failure(Ambiguous(reason: "double percent-encoding (%25 and two hex digits)"))
                    }
                    if let refusal = take(encoded: value) { return .failure(refusal) }
                    index += 3
                    continue
                }
                if let refusal = take(raw: byte) { return .failure(refusal) }
                index += 1
            }
            let endsWithSlash = bytes.count > 1 && bytes.last == UInt8(ascii: "/")
            let lastWasDotSegment = segment == [UInt8(ascii: ".")] || segment == [UInt8(ascii: "."), UInt8(ascii: ".")]
            if let refusal = endSegment() { return .failure(refusal) }
            if hasNonASCII {
                // U+FFFD is what a header or request line with invalid UTF-8 was turned into on the way in.
                guard let text = String(validating: decoded, as: UTF8.self), !text.unicodeScalars.contains("\u{FFFD}") else {
                    return .failure(Ambiguous(reason: "invalid or overlong UTF-8"))
                }
                if text.unicodeScalars.contains(where: { (0x80...0x9F).contains($0.value) }) {
                    return .failure(Ambiguous(reason: "an encoded control character"))
                }
            }
            var out: [UInt8] = [UInt8(ascii: "/")]
            out.reserveCapacity(bytes.count)
            for (position, part) in segments.enumerated() {
                if position > 0 { out.append(UInt8(ascii: "/")) }
                out += part
            }
            if (endsWithSlash || lastWasDotSegment) && !segments.isEmpty { out.append(UInt8(ascii: "/")) }
            // Decoding once can spell a new escape (`%25%32%46` → `%2F`): a second decoder would read it.
            if RequestPath.hasEscapedPercentEscape(out) { return .failure(Ambiguous(reason: "double percent-encoding (%25 and two hex digits)")) }
            return .success(String(decoding: out, as: UTF8.self))
        }

        private mutating func take(raw byte: UInt8) -> Ambiguous? {
            switch byte {
            case 0..<0x21, 0x7F: return Ambiguous(reason: "a control character or space")
            case UInt8(ascii: "\\"): return Ambiguous(reason: "a backslash")
            case UInt8(ascii: ";"): return Ambiguous(reason: "a ; path parameter")
            case UInt8(ascii: "#"): return Ambiguous(reason: "a fragment")
            case 0x80...:
                hasNonASCII = true
                decoded.append(byte)
                appendEscaped(byte)
            default:
                decoded.append(byte)
                segment.append(byte)
            }
            return nil
        }

        private mutating func take(encoded value: UInt8) -> Ambiguous? {
            decoded.append(value)
            switch value {
            case 0..<0x20, 0x7F: return Ambiguous(reason: "an encoded control character")
            case UInt8(ascii: "/"), UInt8(ascii: "\\"): return Ambiguous(reason: "an encoded / or \\")
            case UInt8(ascii: ";"): return Ambiguous(reason: "an encoded ;")
            case UInt8(ascii: "."):
                segmentHasEncodedDot = true
                segment.append(value)
            case 0x80...:
                hasNonASCII = true
                appendEscaped(value)
            case _ where RequestPath.isUnreserved(value):
                segment.append(value)
            default:
                appendEscaped(value)
            }
            return nil
        }

        private mutating func appendEscaped(_ value: UInt8) {
            segment += [UInt8(ascii: "%"), RequestPath.hexDigit(value >> 4), RequestPath.hexDigit(value & 0x0F)]
        }

        /// Closes the current segment: empty ones merge, `.` goes, `..` removes the one before.
        private mutating func endSegment() -> Ambiguous? {
            defer { segment.removeAll(keepingCapacity: true); segmentHasEncodedDot = false }
            if segment.isEmpty {
                sawEmptySegment = true
                return nil
            }
            if segmentHasEncodedDot && segment.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                return Ambiguous(reason: "a dot segment made of encoded dots")
            }
            if segment == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                // nginx merges `//` before resolving `..`; RFC 3986 lets `..` remove the empty segment.
                if sawEmptySegment { return Ambiguous(reason: "a .. segment after an empty one (//)") }
                guard segments.popLast() != nil else { return Ambiguous(reason: "a .. segment above the root") }
            } else if segment != [UInt8(ascii: ".")] {
                segments.append(segment)
            }
            return nil
        }
    }

    /// `%25` followed by two hex digits.
    fileprivate static func hasEscapedPercentEscape(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 5 else { return false }
        for index in 0...(bytes.count - 5)
        where bytes[index] == UInt8(ascii: "%") && bytes[index + 1] == UInt8(ascii: "2")
            && bytes[index + 2] == UInt8(ascii: "5") && FormEncoding.hexValue(bytes[index + 3]) != nil && FormEncoding.hexValue(bytes[index + 4]) != nil
        {
            return true
        }
        return false
    }

    fileprivate static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    fileprivate static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
