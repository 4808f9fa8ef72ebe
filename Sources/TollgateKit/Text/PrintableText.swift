/// Text that came from outside (an IdP's error, a path a caller chose) made safe for a log line
/// or a JSON answer: printable ASCII only, bounded.
package enum PrintableText {
    package static func clean(_ text: String, limit: Int) -> String {
        // Most text is already clean: checked in one pass over its bytes, kept without a copy.
        if text.utf8.count <= limit, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(limit)))
    }
}
