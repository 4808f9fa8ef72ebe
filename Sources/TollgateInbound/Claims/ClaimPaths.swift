/// Claim paths read on top of the standard claims (`realm_access.roles`,
/// `resource_access.<client>.roles`): configured once and read from the same parse as the
/// standard claims.
package struct ClaimPaths: Sendable {
    /// Dotted path → its segments; `scope`, `scp`, `roles` and `groups` are read anyway.
    let paths: [(String, [String])]

    package static let none = ClaimPaths([])

    package init(_ dotted: [String]) {
        var seen = Set<String>()
        paths = dotted.filter { !["scope", "scp", "roles", "groups"].contains($0) && seen.insert($0).inserted }
            .map { ($0, $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init)) }
    }

    var isEmpty: Bool { paths.isEmpty }
}
