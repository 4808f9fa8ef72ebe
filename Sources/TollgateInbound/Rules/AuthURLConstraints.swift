import TollgateKit

/// What the operator wrote on the auth URL's query string (`/auth?allowed_groups=admins`): oauth2-proxy's
/// `allowed_groups`, `allowed_emails` and `allowed_email_domains` (comma-separated, all of them
/// apply), and Tollgate's `scope` / `allowed_scopes` (every one needed, comma- or space-separated).
/// A parameter Tollgate does not understand, or one left empty, is refused: a constraint the
/// operator wrote and Tollgate dropped would be an open door.
package struct AuthURLConstraints: Sendable, Equatable {
    package var scopes: [String] = []
    package var groups: Set<String> = []
    package var emails: Set<String> = []
    package var emailDomains: [String] = []

    package struct Refusal: Error, Equatable, Sendable {
        package let reason: String
    }

    package static let none = AuthURLConstraints()

    package init() {}

    package init(query: Substring) throws(Refusal) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let rawName = String(parts[0])
            guard let name = FormEncoding.decode(rawName), let value = FormEncoding.decode(parts.count > 1 ? String(parts[1]) : "") else {
                throw Refusal(reason: "the auth URL's query has a malformed escape near \(Self.shown(rawName))")
            }
            let separators: (Character) -> Bool = name == "scope" || name == "allowed_scopes" ? { $0 == "," || $0 == " " } : { $0 == "," }
            let entries = value.split(whereSeparator: separators).map(String.init)
            switch name {
            case "scope", "allowed_scopes": scopes += entries
            case "allowed_groups": groups.formUnion(entries)
            case "allowed_emails": emails.formUnion(entries)
            case "allowed_email_domains": emailDomains += entries
            default:
                throw Refusal(
                    reason:
                        "the auth URL's query parameter \(Self.shown(name)) is not one Tollgate understands (scope, allowed_scopes, allowed_groups, allowed_emails, allowed_email_domains)"
                )
            }
            guard !entries.isEmpty else { throw Refusal(reason: "the auth URL's query parameter \(name) is empty") }
        }
    }

    package var isEmpty: Bool { scopes.isEmpty && groups.isEmpty && emails.isEmpty && emailDomains.isEmpty }

    /// `requirement` with these constraints on top; they only ever add.
    package func applied(to requirement: RouteRequirement, groupsClaim: String) -> RouteRequirement {
        guard !isEmpty else { return requirement }
        var combined = requirement.adding(scopes: scopes)
        if !groups.isEmpty {
            combined.groups = groups
            combined.groupsClaim = groupsClaim
        }
        combined.emails = emails
        combined.emailDomains = emailDomains
        return combined
    }

    /// A parameter name as an answer or a log may show it: a short identifier, else nothing of it
    /// (a long or odd name could be a token someone put there).
    private static func shown(_ text: String) -> String {
        let isName =
            (1...40).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                $0 < 0x80
                    && (Character(Unicode.Scalar($0)).isLetter || Character(Unicode.Scalar($0)).isNumber || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
                        || $0 == UInt8(ascii: "."))
            }
        return isName ? "\"" + text + "\"" : "(a name of \(text.utf8.count) bytes, not shown)"
    }
}
