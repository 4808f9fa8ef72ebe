import Foundation
import NIOHTTP1

/// How Tollgate authenticates itself to an IdP endpoint (RFC 6749 §2.3.1).
public struct ClientCredentials: Sendable {
    public let clientID: String
    public let secret: Secret
    public let method: ClientAuthMethod

    public init(clientID: String, secret: Secret, method: ClientAuthMethod) {
        self.clientID = clientID
        self.secret = secret
        self.method = method
    }

    /// Adds the credentials to a form request: a Basic header, or two form fields.
    public func apply(headers: inout HTTPHeaders, form: inout [(String, String)]) {
        switch method {
        case .clientSecretBasic:
            let pair = FormEncoding.encode(clientID) + ":" + FormEncoding.encode(secret.value)
            headers.replaceOrAdd(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        case .clientSecretPost:
            form.append(("client_id", clientID))
            form.append(("client_secret", secret.value))
        }
    }
}
