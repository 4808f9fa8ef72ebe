/// JSON with `//` and `/* */` comments (JSONC, as orthanc-auth-service ships `permissions.json`
/// and Orthanc writes its configuration) made plain JSON: comments outside strings become spaces,
/// so positions in error messages stay meaningful. Strings are kept byte for byte, escapes included.
package enum JSONComments {
    package static func strip(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                inString = true
                index += 1
            } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { out[index] = UInt8(ascii: " "); index += 1 }
            } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                let start = index
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                // An unclosed comment runs to the end and leaves the JSON unterminated: the parser says so.
                let end = min(index + 2, bytes.count)
                for position in start..<end where out[position] != UInt8(ascii: "\n") { out[position] = UInt8(ascii: " ") }
                index = end
            } else {
                index += 1
            }
        }
        return out
    }
}
