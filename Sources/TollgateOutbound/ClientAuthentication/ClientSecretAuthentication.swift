import NIOHTTP1
import TollgateKit

/// `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1).
struct ClientSecretAuthentication: TokenRequestAuthentication {
    let credentials: ClientCredentials

    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws {
        credentials.apply(headers: &headers, form: &form)
    }
}
