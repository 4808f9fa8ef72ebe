/// What an issuer said about an active token: the RFC 7662 members (and RFC 9068 claims) Tollgate reads.
public struct TokenClaims: Sendable, Equatable {
    public var issuer: String?
    public var subject: String?
    public var clientID: String?
    public var username: String?
    public var audiences: [String] = []
    public var scopes: [String] = []
    public var expiresAt: Int?
    public var issuedAt: Int?
    public var notBefore: Int?
    public var tokenType: String?
    /// `roles` and `groups` claims (Entra, Okta and others), for permission mapping.
    public var roles: [String] = []
    public var groups: [String] = []

    public init() {}

    /// The identity a caller sees: subject, else username, else client id.
    public var userID: String { subject ?? username ?? clientID ?? "" }
}
