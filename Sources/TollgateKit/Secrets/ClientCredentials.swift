import Foundation
package import NIOHTTP1

/// Tollgate's own credentials at an IdP endpoint (introspection, token endpoint).
package struct ClientCredentials: Sendable {
    package let clientID: String
    package let secret: Secret
    package let method: Method

    /// Where the secret goes (RFC 6749 §2.3.1): a Basic header, or the form body.
    package enum Method: Sendable {
        case clientSecretBasic
        case clientSecretPost
    }

    package init(clientID: String, secret: Secret, method: Method) {
        self.clientID = clientID
        self.secret = secret
        self.method = method
    }

    /// Adds the credentials to a form request: a Basic header, or two form fields.
    package func apply(headers: inout HTTPHeaders, form: inout [(String, String)]) {
        switch method {
        case .clientSecretBasic:
            // RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
            headers.replaceOrAdd(
                name: "Authorization",
                value: BasicAuthorization.value(
                    user: FormEncoding.encode(clientID), password: FormEncoding.encode(secret.value)))
        case .clientSecretPost:
            form.append(("client_id", clientID))
            form.append(("client_secret", secret.value))
        }
    }
}

/// `Authorization: Basic …` values (RFC 7617), built in one place.
package enum BasicAuthorization {
    package static func value(user: String, password: String) -> String {
        "Basic " + Data((user + ":" + password).utf8).base64EncodedString()
    }
}
