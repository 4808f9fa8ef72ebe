/// UTF-8 text built in one growing byte array, for lines written on every request (the access
/// log): no intermediate `String`s, and it goes to `write(2)` as it is.
package struct TextBuffer {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    package mutating func append(bytes text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    package mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    /// An integer in decimal, its digits zero-padded to `width`.
    package mutating func append(_ value: Int, width: Int = 1) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        var rest = value.magnitude
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while bytes.count - start < width { bytes.append(UInt8(ascii: "0")) }
        bytes[start...].reverse()
    }

    /// A JSON string literal, quotes included (RFC 8259 §7; U+2028/2029 escaped for JavaScript readers).
    package mutating func appendJSONString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            if !utf8.contains(where: JSONEscaping.needsEscape) {
                bytes.append(contentsOf: utf8)
                return
            }
            for scalar in String(decoding: utf8, as: UTF8.self).unicodeScalars {
                JSONEscaping.append(scalar, to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// The one place that knows which characters a JSON string literal escapes.
enum JSONEscaping {
    /// Bytes that may need escaping: controls, `"`, `\`, and 0xE2 (the lead byte of U+2028/2029).
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0xE2
    }

    static func append(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        switch scalar {
        case "\"": out.append(contentsOf: [0x5C, 0x22])
        case "\\": out.append(contentsOf: [0x5C, 0x5C])
        case "\n": out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case "\r": out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case "\t": out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case let c where c.value < 0x20 || c.value == 0x2028 || c.value == 0x2029:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
            for shift in [12, 8, 4, 0] { out.append(hex[Int((c.value >> UInt32(shift)) & 0xF)]) }
        default: out.append(contentsOf: String(scalar).utf8)
        }
    }
}
