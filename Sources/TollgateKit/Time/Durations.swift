package import NIOCore

extension Duration {
    /// Seconds as a Double, for metrics and logs.
    package var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds.
    package var milliseconds: Int64 {
        let (whole, attoseconds) = components
        return whole * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension TimeAmount {
    /// A configured `*_ms` value.
    package static func configured(milliseconds: Int) -> TimeAmount { .milliseconds(Int64(milliseconds)) }
}
