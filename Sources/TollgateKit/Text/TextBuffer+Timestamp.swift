import Foundation

extension TextBuffer {
    /// RFC 3339 UTC with milliseconds (`2026-12-07T11:41:04.123Z`), from gmtime_r: Foundation's
    /// formatter cost more than the rest of an access-log line.
    package mutating func appendTimestamp(seconds: Int, milliseconds: Int) {
        let parts = Self.utc(seconds)
        append(Int(parts.tm_year) + 1900, width: 4)
        append(byte: UInt8(ascii: "-"))
        append(Int(parts.tm_mon) + 1, width: 2)
        append(byte: UInt8(ascii: "-"))
        append(Int(parts.tm_mday), width: 2)
        append(byte: UInt8(ascii: "T"))
        appendClock(parts)
        append(byte: UInt8(ascii: "."))
        append(milliseconds, width: 3)
        append(byte: UInt8(ascii: "Z"))
    }

    /// RFC 9110 §5.6.7 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the `Date` header's form.
    package mutating func appendHTTPDate(seconds: Int) {
        let parts = Self.utc(seconds)
        append(Self.weekdays[Int(parts.tm_wday)])
        append(", ")
        append(Int(parts.tm_mday), width: 2)
        append(byte: UInt8(ascii: " "))
        append(Self.months[Int(parts.tm_mon)])
        append(byte: UInt8(ascii: " "))
        append(Int(parts.tm_year) + 1900, width: 4)
        append(byte: UInt8(ascii: " "))
        appendClock(parts)
        append(" GMT")
    }

    /// The calendar fields of a Unix time in UTC.
    private static func utc(_ seconds: Int) -> tm {
        var seconds = time_t(seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return parts
    }

    /// `HH:MM:SS`, as both forms write the time of day.
    private mutating func appendClock(_ parts: tm) {
        append(Int(parts.tm_hour), width: 2)
        append(byte: UInt8(ascii: ":"))
        append(Int(parts.tm_min), width: 2)
        append(byte: UInt8(ascii: ":"))
        append(Int(parts.tm_sec), width: 2)
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The current time, as `appendTimestamp(seconds:milliseconds:)` writes it.
    package mutating func appendCurrentTimestamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        appendTimestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec / 1_000_000))
    }
}
