package import TollgateKit

/// `auth_method` of an introspection client: how Tollgate presents its secret.
package enum ClientAuthMethod: String, ConfigEnum {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"

    package var credentialsMethod: ClientCredentials.Method {
        switch self {
        case .clientSecretBasic: .clientSecretBasic
        case .clientSecretPost: .clientSecretPost
        }
    }
}
