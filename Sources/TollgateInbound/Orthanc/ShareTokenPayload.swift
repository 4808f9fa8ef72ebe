import JWTKit

/// The claims of a share token Tollgate signs (HS256, its own key): the creation request's
/// type, resources and `server-id`, with `iat` and, unless it never expires, `exp`.
struct ShareTokenPayload: JWTPayload {
    static let issuer = "tollgate:orthanc-share"

    var iss: String
    var type: String
    var resources: [OrthancResource]
    var serverID: String?
    var id: String?
    var iat: Int
    var exp: Int?

    enum CodingKeys: String, CodingKey {
        case iss, type, resources, id, iat, exp
        case serverID = "server-id"
    }

    /// Signature and algorithm are jwt-kit's check; expiry is the caller's, because an expired
    /// token is answered differently (`error-code: expired`) from a forged one.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        guard iss == Self.issuer, ShareTokens.types.contains(type), !resources.isEmpty, resources.count <= ShareTokens.maxResources else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "not a Tollgate share token")
        }
    }
}
