package import Foundation

/// HTTP dates and `Retry-After` (RFC 9110 §5.6.7, §10.2.3).
package enum HTTPDate {
    package static func parse(_ text: some StringProtocol) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: String(text))
    }

    /// The IMF-fixdate of a time in whole seconds since 1970, as a `Date` header carries it.
    package static func format(epochSeconds: Int) -> String {
        var text = TextBuffer(capacity: 29)
        text.appendHTTPDate(seconds: epochSeconds)
        return String(decoding: text.bytes, as: UTF8.self)
    }

    /// Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP-date (never negative).
    package static func retryAfterSeconds(_ value: String, now: Double) -> Double? {
        let trimmed = ASCIIText.trimmingOWS(value)
        if let seconds = Int(trimmed), seconds >= 0 { return Double(seconds) }
        guard let date = parse(trimmed) else { return nil }
        return max(0, date.timeIntervalSince1970 - now)
    }
}
