/// An RFC 7662 answer. Strict: a member of the wrong type (e.g. `"active":"yes"`) makes the whole
/// answer unreadable, which is reported as indeterminate rather than guessed at.
package struct IntrospectionResponse: Decodable {
    package let active: Bool
    package let claims: TokenClaims

    package init(from decoder: any Decoder) throws {
        let reader = try ClaimsReader(decoder)
        active = try reader.bool("active")
        claims = try reader.tokenClaims()
    }
}
