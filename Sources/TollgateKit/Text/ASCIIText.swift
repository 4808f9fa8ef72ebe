/// Byte-level helpers for protocol text (header values, schemes). Foundation's `trimmingCharacters`
/// and friends bridge through UTF-16 and were the largest single cost on the cached-decision path.
/// Inlinable: every request calls them from another module.
package enum ASCIIText {
    /// `value` without leading and trailing spaces and tabs (RFC 9110 OWS).
    @inlinable
    package static func trimmingOWS<S: StringProtocol>(_ value: S) -> S.SubSequence {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = value.firstIndex(where: { !isOWS($0) }), let last = value.lastIndex(where: { !isOWS($0) }) else {
            return value[value.endIndex...]
        }
        return value[first...last]
    }

    /// ASCII case-insensitive equality, with `lowercase` already in lower case.
    @inlinable
    package static func equalsIgnoringCase(_ value: some StringProtocol, lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard value.utf8.count == expected.count else { return false }
        return zip(value.utf8, expected).allSatisfy { byte, want in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == want
        }
    }
}
