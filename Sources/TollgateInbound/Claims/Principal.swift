import TollgateKit

/// An active token's claims. A class, so that a decision-cache entry holds one pointer: cached
/// decisions are the bulk of Tollgate's memory (100,000 of them cost +116 MB as a struct with
/// pre-rendered JSON, about half that now). The MockForge JSON is rendered per answer instead.
public final class Principal: Sendable {
    public let claims: TokenClaims

    public init(claims: TokenClaims) {
        self.claims = claims
    }

    public var claimsJSON: String { JSONText.object(claims.jsonMembers) }
    public var userIDJSON: String { JSONText.string(claims.userID) }
}

extension TokenClaims {
    /// The claims as MockForge answers them.
    package var jsonMembers: [(String, JSONText.Value)] {
        var members: [(String, JSONText.Value)] = []
        if !scopes.isEmpty { members.append(("scope", .string(scopes.joined(separator: " ")))) }
        if let clientID { members.append(("client_id", .string(clientID))) }
        if let subject { members.append(("sub", .string(subject))) }
        if let username { members.append(("username", .string(username))) }
        if let issuer { members.append(("iss", .string(issuer))) }
        if !audiences.isEmpty { members.append(("aud", audiences.count == 1 ? .string(audiences[0]) : .strings(audiences))) }
        if let expiresAt { members.append(("exp", .int(expiresAt))) }
        if let issuedAt { members.append(("iat", .int(issuedAt))) }
        if let notBefore { members.append(("nbf", .int(notBefore))) }
        if let tokenType { members.append(("token_type", .string(tokenType))) }
        if !roles.isEmpty { members.append(("roles", .strings(roles))) }
        if !groups.isEmpty { members.append(("groups", .strings(groups))) }
        if !userinfo.isEmpty {
            let present = Set(members.map(\.0))
            for (key, value) in userinfo.sorted(by: { $0.key < $1.key }) where !present.contains(key) { members.append((key, .string(value))) }
        }
        return members
    }
}
