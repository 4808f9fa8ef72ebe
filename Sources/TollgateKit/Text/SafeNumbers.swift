extension Int {
    /// Seconds (or any count) from a Double that came from the network, without trapping: NaN is
    /// 0, and values beyond Int's range are clamped. `Int(Double)` traps on both.
    package init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.2e18 {
            self = Int.max
        } else if value <= -9.2e18 {
            self = Int.min
        } else {
            self = Int(value.rounded(.down))
        }
    }
}

/// RFC 9111 §1.2.2 delta-seconds (`max-age=…`): digits only; a value too large for an integer
/// means "a very long time". Anything else (`NaN`, `inf`, `-5`, `1e3`) is no value at all.
package enum DeltaSeconds {
    package static func parse(_ text: some StringProtocol) -> Double? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text).map(Double.init) ?? Double(Int32.max)
    }
}
