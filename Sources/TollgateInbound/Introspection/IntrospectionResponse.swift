import TollgateKit

/// An RFC 7662 answer. Strict: a member of the wrong type (e.g. `"active":"yes"`) makes the whole
/// answer unreadable, which is reported as indeterminate rather than guessed at.
package struct IntrospectionResponse {
    package let active: Bool
    package let claims: TokenClaims

    package struct Unreadable: Error {}

    package init(json: some Collection<UInt8>, claimPaths: ClaimPaths = .none) throws(Unreadable) {
        do {
            let reader = ClaimsReader(try StrictJSON.object(json), paths: claimPaths)
            active = try reader.bool("active")
            claims = try reader.tokenClaims()
        } catch {
            throw Unreadable()
        }
    }
}
