import TollgateConfiguration

/// Orthanc-style authorization on top of authentication: a token's roles (its scopes, or its
/// `roles`/`groups` claim) grant permission names, and each method — optionally per level —
/// needs one. With no configuration every valid token may do everything.
public struct PermissionPolicy: Sendable {
    public static let everything = ["all"]

    private let config: PermissionsConfig?

    public init(config: PermissionsConfig?) { self.config = config }

    public var isAuthenticationOnly: Bool { config == nil }

    /// The roles that count for a token.
    public func roles(of claims: TokenClaims) -> [String] {
        switch config?.claim ?? .scope {
        case .scope: claims.scopes
        case .roles: claims.roles
        case .groups: claims.groups
        }
    }

    public func permissions(of claims: TokenClaims) -> [String] {
        guard let config else { return Self.everything }
        var seen = Set<String>()
        var result: [String] = []
        for role in roles(of: claims) {
            for permission in config.roles[role] ?? [] where seen.insert(permission).inserted { result.append(permission) }
        }
        return result
    }

    public func labels(of claims: TokenClaims) -> [String] {
        guard let config, !config.labels.isEmpty else { return ["*"] }
        let listed = roles(of: claims).flatMap { config.labels[$0] ?? [] }
        return listed.isEmpty ? [] : Array(Set(listed)).sorted()
    }

    public enum Check: Sendable, Equatable {
        case allowed
        case lacks(String)
        /// A method or level Orthanc does not use, or one no permission is configured for.
        case unknownRequest
    }

    public func check(method: String, level: String, claims: TokenClaims) -> Check {
        let method = method.lowercased()
        let level = level.lowercased()
        guard TollgateConfig.orthancMethods.contains(method), TollgateConfig.orthancLevels.contains(level) else { return .unknownRequest }
        guard let config else { return .allowed }
        guard let needed = config.required[level + ":" + method] ?? config.required[method] else { return .unknownRequest }
        return permissions(of: claims).contains(needed) ? .allowed : .lacks(needed)
    }
}
