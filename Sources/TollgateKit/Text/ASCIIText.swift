/// Byte-level helpers for protocol text (header values, schemes). Foundation's `trimmingCharacters`
/// and friends bridge through UTF-16 and were the largest single cost on the cached-decision path.
/// Concrete on `Substring`: every request calls them from another module, where a generic was left
/// unspecialized.
package enum ASCIIText {
    /// `value` without leading and trailing spaces and tabs (RFC 9110 OWS).
    @inlinable
    package static func trimmingOWS<S: StringProtocol>(_ value: S) -> S.SubSequence {
        value[owsTrimmed(value.utf8)]
    }

    /// The same, compiled here for the substrings headers are split into: a generic left
    /// unspecialized across modules cost more than the rest of a cached decision.
    package static func trimmingOWS(_ value: Substring) -> Substring {
        value[owsTrimmed(value.utf8)]
    }

    /// The bytes between leading and trailing OWS, in one forward pass.
    @inlinable
    static func owsTrimmed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Range<Bytes.Index> {
        func isOWS(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = bytes.startIndex
        while start < bytes.endIndex, isOWS(bytes[start]) { bytes.formIndex(after: &start) }
        var end = start
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            if !isOWS(byte) { end = index }
        }
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
