import Foundation
import NIOHTTP1

/// Tollgate's own credentials at an IdP endpoint (introspection, token endpoint).
public struct ClientCredentials: Sendable {
    public let clientID: String
    public let secret: Secret
    public let method: Method

    /// Where the secret goes (RFC 6749 §2.3.1): a Basic header, or the form body.
    public enum Method: Sendable {
        case clientSecretBasic
        case clientSecretPost
    }

    public init(clientID: String, secret: Secret, method: Method) {
        self.clientID = clientID
        self.secret = secret
        self.method = method
    }

    /// Adds the credentials to a form request: a Basic header, or two form fields.
    public func apply(headers: inout HTTPHeaders, form: inout [(String, String)]) {
        switch method {
        case .clientSecretBasic:
            // RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
            headers.replaceOrAdd(name: "Authorization", value: BasicAuthorization.value(
                user: FormEncoding.encode(clientID), password: FormEncoding.encode(secret.value)))
        case .clientSecretPost:
            form.append(("client_id", clientID))
            form.append(("client_secret", secret.value))
        }
    }
}

/// `Authorization: Basic …` values (RFC 7617), built in one place.
public enum BasicAuthorization {
    public static func value(user: String, password: String) -> String {
        "Basic " + Data((user + ":" + password).utf8).base64EncodedString()
    }
}
