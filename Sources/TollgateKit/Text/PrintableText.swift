/// Text that came from outside (an IdP's error, a path a caller chose) made safe for a log line
/// or a JSON answer: printable ASCII only, bounded.
package enum PrintableText {
    package static func clean(_ text: String, limit: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(limit)))
    }
}
