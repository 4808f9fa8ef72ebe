/// Byte-level helpers for protocol text (header values, schemes). Foundation's `trimmingCharacters`
/// and friends bridge through UTF-16 and were the largest single cost on the cached-decision path.
/// Concrete on `Substring`: every request calls them from another module, where a generic was left
/// unspecialized.
package enum ASCIIText {
    /// `value` without leading and trailing spaces and tabs (RFC 9110 OWS). Only the ends are
    /// looked at: a token is hundreds of bytes, and every request trims one.
    @inlinable
    package static func trimmingOWS<S: StringProtocol>(_ value: S) -> S.SubSequence {
        owsTrimmed(value)
    }

    /// The same, compiled here for the substrings headers are split into: a generic left
    /// unspecialized across modules cost more than the rest of a cached decision.
    package static func trimmingOWS(_ value: Substring) -> Substring {
        owsTrimmed(value)
    }

    @inlinable
    static func owsTrimmed<S: StringProtocol>(_ value: S) -> S.SubSequence {
        let utf8 = value.utf8
        if let bounds = utf8.withContiguousStorageIfAvailable({ owsBounds($0) }) {
            return value[utf8.index(utf8.startIndex, offsetBy: bounds.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: bounds.upperBound)]
        }
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = value.firstIndex(where: { !isOWS($0) }), let last = value.lastIndex(where: { !isOWS($0) }) else {
            return value[value.endIndex...]
        }
        return value[first...last]
    }

    /// Offsets of the bytes between leading and trailing OWS.
    @usableFromInline
    static func owsBounds(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        func isOWS(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = 0
        var end = bytes.count
        while start < end, isOWS(bytes[start]) { start += 1 }
        while end > start, isOWS(bytes[end - 1]) { end -= 1 }
        return start..<end
    }

    /// ASCII case-insensitive equality, with `lowercase` already in lower case.
    @inlinable
    package static func equalsIgnoringCase(_ value: some StringProtocol, lowercase: StaticString) -> Bool {
        foldedEquals(value.utf8, lowercase)
    }

    /// The same, compiled here for substrings (see `trimmingOWS`).
    package static func equalsIgnoringCase(_ value: Substring, lowercase: StaticString) -> Bool {
        foldedEquals(value.utf8, lowercase)
    }

    @inlinable
    static func foldedEquals(_ bytes: some Sequence<UInt8>, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        var position = 0
        for byte in bytes {
            guard position < expected.count else { return false }
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard folded == expected[position] else { return false }
            position += 1
        }
        return position == expected.count
    }
}
