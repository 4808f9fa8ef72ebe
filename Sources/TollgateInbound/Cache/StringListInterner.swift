import Synchronization

/// Hands out one shared copy of each distinct claim list (scopes, audiences, roles, groups), so
/// 100,000 cached decisions of a few clients hold a few arrays, not 100,000. Bounded: past
/// `limit` distinct lists (a hostile or unusual issuer) lists are kept as they come.
final class StringListInterner: Sendable {
    private let lists = Mutex<Set<[String]>>([])
    private let limit: Int

    init(limit: Int = 4096) {
        self.limit = limit
    }

    func intern(_ list: [String]) -> [String] {
        guard !list.isEmpty else { return list }
        return lists.withLock { lists in
            if let shared = lists.firstIndex(of: list).map({ lists[$0] }) { return shared }
            if lists.count < limit { lists.insert(list) }
            return list
        }
    }

    /// The same claims, with every list shared.
    func interning(_ status: TokenStatus) -> TokenStatus {
        guard case .active(let principal, let issuer) = status else { return status }
        var claims = principal.claims
        claims.scopes = intern(claims.scopes)
        claims.audiences = intern(claims.audiences)
        claims.roles = intern(claims.roles)
        claims.groups = intern(claims.groups)
        return .active(Principal(claims: claims), issuer: issuer)
    }
}
