/// A configured path regex with a cheap test in front: what every match of an anchored pattern
/// starts with. A pattern that is nothing but `^literal` needs no regex at all.
struct PathPattern: @unchecked Sendable {
    // Regex<AnyRegexOutput> is not Sendable; patterns are immutable after init.
    let source: String
    private let regex: Regex<AnyRegexOutput>
    let literalPrefix: String
    private let prefixIsWholePattern: Bool

    init(_ source: String) throws {
        self.source = source
        regex = try Regex(source)
        literalPrefix = Self.literalPrefix(of: source)
        prefixIsWholePattern = !literalPrefix.isEmpty && source == "^" + literalPrefix
    }

    /// Searches `path` (anchor with `^` and `$` for a whole match).
    func matches(_ path: String) -> Bool {
        guard path.hasPrefix(literalPrefix) else { return false }
        if prefixIsWholePattern { return true }
        return (try? regex.firstMatch(in: path)) != nil
    }

    /// Whether the whole of `text` matches.
    func wholeMatches(_ text: String) -> Bool {
        guard text.hasPrefix(literalPrefix) else { return false }
        return (try? regex.wholeMatch(in: text)) != nil
    }

    /// The characters an anchored pattern matches literally before its first metacharacter.
    /// A character followed by `?`, `*` or `{` may be absent, so it is not part of the prefix;
    /// a top-level `|` means no common prefix at all.
    static func literalPrefix(of source: String) -> String {
        guard source.hasPrefix("^"), !hasTopLevelAlternation(source) else { return "" }
        let body = source.dropFirst()
        let literal = body.prefix { !"\\.^$|?*+()[]{}".contains($0) }
        let next = body.dropFirst(literal.count).first
        return String(next.map { "?*{".contains($0) } == true ? literal.dropLast() : literal)
    }

    static func hasTopLevelAlternation(_ source: String) -> Bool {
        var depth = 0
        var escaped = false
        for character in source {
            if escaped { escaped = false; continue }
            switch character {
            case "\\": escaped = true
            case "(", "[": depth += 1
            case ")", "]": depth -= 1
            case "|" where depth <= 0: return true
            default: break
            }
        }
        return false
    }
}
