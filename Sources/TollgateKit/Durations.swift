import NIOCore

extension Duration {
    /// Seconds as a Double, for metrics and logs.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds.
    public var milliseconds: Int64 {
        let (whole, attoseconds) = components
        return whole * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension TimeAmount {
    /// A configured `*_ms` value.
    public static func configured(milliseconds: Int) -> TimeAmount { .milliseconds(Int64(milliseconds)) }
}
