import NIOHTTP1

/// `none` (RFC 7591 §2, OAuth 2.1 §2.4): a public client, which holds no secret, names itself with
/// `client_id` in the form; PKCE is what binds its code to it.
struct PublicClientAuthentication: TokenRequestAuthentication {
    let clientID: String

    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws {
        form.append(("client_id", clientID))
    }
}
