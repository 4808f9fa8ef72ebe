/// A strict RFC 8259 parser for small documents read on hot paths, where Foundation's
/// `JSONDecoder` was the largest single cost of verifying a JWT. Strict where it matters for
/// untrusted input: duplicate member names are refused (RFC 7515 §5.2 allows refusing them, and
/// a parser that keeps the first would disagree with one that keeps the last), strings must be
/// valid UTF-8 with no lone surrogates, nesting is bounded so hostile input cannot exhaust the
/// stack, and nothing may follow the value but whitespace.
package enum StrictJSON {
    package struct Failure: Error, Equatable, Sendable {
        package let reason: String
        package let offset: Int
    }

    /// Deeper documents are refused; no document Tollgate reads nests beyond a handful of levels.
    package static let maxDepth = 64

    package static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONNode {
        let result =
            bytes.withContiguousStorageIfAvailable { buffer in parse(buffer: buffer) }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in parse(buffer: buffer) }
        return try result.get()
    }

    /// The document, which must be an object.
    package static func object(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONObject {
        guard case .object(let object) = try parse(bytes) else { throw Failure(reason: "not a JSON object", offset: 0) }
        return object
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONNode, Failure> {
        var parser = Parser(bytes: buffer)
        do throws(Failure) {
            parser.skipWhitespace()
            let value = try parser.value()
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.failure("trailing characters") }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func failure(_ reason: String) -> StrictJSON.Failure { StrictJSON.Failure(reason: reason, offset: index) }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value() throws(StrictJSON.Failure) -> JSONNode {
        guard let byte = current else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"): return .object(try object())
        case UInt8(ascii: "["): return .array(try array())
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(StrictJSON.Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure("unexpected end") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw failure("unexpected character")
        }
        index += count
    }

    mutating func enter() throws(StrictJSON.Failure) {
        depth += 1
        guard depth <= StrictJSON.maxDepth else { throw failure("nested too deeply") }
        index += 1
        skipWhitespace()
    }

    mutating func object() throws(StrictJSON.Failure) -> JSONObject {
        try enter()
        defer { depth -= 1 }
        var members = JSONObject()
        var names: Set<String>?  // only for objects too large to check by scanning
        if current == UInt8(ascii: "}") { index += 1; return members }
        while true {
            guard current == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let name = try string()
            if members.count < 16 {
                if members.contains(name) { throw failure("duplicate member name") }
            } else {
                if names == nil { names = Set(members.members.map(\.name)) }
                guard names!.insert(name).inserted else { throw failure("duplicate member name") }
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            members.append(name, try value())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            case UInt8(ascii: "}"): index += 1; return members
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    mutating func array() throws(StrictJSON.Failure) -> [JSONNode] {
        try enter()
        defer { depth -= 1 }
        var elements: [JSONNode] = []
        if current == UInt8(ascii: "]") { index += 1; return elements }
        while true {
            elements.append(try value())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            case UInt8(ascii: "]"): index += 1; return elements
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    mutating func string() throws(StrictJSON.Failure) -> String {
        index += 1  // the opening quote
        let start = index
        var nonASCII = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if !nonASCII { return String(decoding: run, as: UTF8.self) }
                guard let text = String(validating: run, as: UTF8.self) else { throw failure("invalid UTF-8") }
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            if byte < 0x20 { throw failure("control character in string") }
            if byte >= 0x80 { nonASCII = true }
            index += 1
        }
        throw failure("unterminated string")
    }

    /// The slow path, for a string with escapes: decoded into bytes, then validated as UTF-8.
    mutating func escapedString(from start: Int) throws(StrictJSON.Failure) -> String {
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw failure("invalid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard let escape = current else { throw failure("unterminated string") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: throw failure("invalid escape")
                }
            case 0..<0x20:
                throw failure("control character in string")
            default:
                out.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    /// `\uXXXX`, with a surrogate pair taken whole; a lone surrogate is refused.
    mutating func unicodeEscape() throws(StrictJSON.Failure) -> [UInt8] {
        let first = try hex4()
        var scalarValue = first
        if (0xD800...0xDBFF).contains(first) {
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("lone surrogate")
            }
            index += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw failure("lone surrogate") }
            scalarValue = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(first) {
            throw failure("lone surrogate")
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw failure("invalid escape") }
        return Array(String(Character(scalar)).utf8)
    }

    mutating func hex4() throws(StrictJSON.Failure) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("unterminated string") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = FormEncoding.hexValue(bytes[index]) else { throw failure("invalid escape") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() throws(StrictJSON.Failure) -> Double {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard let lead = current, isDigit(lead) else { throw failure("invalid number") }
        index += 1
        if lead != UInt8(ascii: "0") { skipDigits() }
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let digit = current, isDigit(digit) else { throw failure("invalid number") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let digit = current, isDigit(digit) else { throw failure("invalid number") }
            skipDigits()
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        // Up to 15 digits is exact in a Double; the common case (NumericDate) needs no text conversion.
        if integral, text.count <= 15 {
            var magnitude: Int64 = 0
            for byte in text where byte != UInt8(ascii: "-") { magnitude = magnitude * 10 + Int64(byte - UInt8(ascii: "0")) }
            return text.first == UInt8(ascii: "-") ? -Double(magnitude) : Double(magnitude)
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)) else { throw failure("invalid number") }
        return value
    }

    mutating func skipDigits() {
        while let byte = current, isDigit(byte) { index += 1 }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
