import Foundation

/// Claim paths read on top of the standard claims (`realm_access.roles`,
/// `resource_access.<client>.roles`): configured once and handed to the JSON decoder, so that a
/// token's claims are still decoded exactly once.
public struct ClaimPaths: Sendable {
    /// Dotted path → its segments; `scope`, `scp`, `roles` and `groups` are read anyway.
    let paths: [(String, [String])]

    public static let none = ClaimPaths([])
    static let userInfoKey = CodingUserInfoKey(rawValue: "tollgate.claimPaths")!

    public init(_ dotted: [String]) {
        var seen = Set<String>()
        paths = dotted.filter { !["scope", "scp", "roles", "groups"].contains($0) && seen.insert($0).inserted }
            .map { ($0, $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init)) }
    }

    var isEmpty: Bool { paths.isEmpty }

    /// A decoder that reads these paths too.
    func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        if !isEmpty { decoder.userInfo[Self.userInfoKey] = self }
        return decoder
    }
}
