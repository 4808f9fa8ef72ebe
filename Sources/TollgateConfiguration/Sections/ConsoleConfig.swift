package import TollgateKit

/// How a person signs in to `/console`.
package enum ConsoleAuthMode: String, ConfigEnum {
    /// Authorization code with PKCE and a nonce against `console.oidc.issuer`.
    case oidc
    /// A verified client certificate named in `admin.client_certificates`.
    case mtls
}

/// Where console sessions are kept: this process, or the registry's store (replicas share them).
package enum ConsoleSessionStore: String, ConfigEnum {
    case memory
    case registry
}

/// How the console's own client authenticates at the IdP's token endpoint.
package enum ConsoleClientAuthMethod: String, ConfigEnum {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    /// A public client: PKCE alone.
    case none
}

/// `console:` — the web console for the people who run Tollgate.
package struct ConsoleConfig: Sendable, Decodable {
    package var enabled = false
    package var auth: ConsoleAuthMode = .oidc
    /// Tollgate's address as the browser reaches it (`https://tollgate.hospital.example`): the
    /// sign-in's redirect URI is `<base_url>/console/callback`, and the cookie is `Secure` on https.
    package var baseURL: String?
    package var oidc = ConsoleOIDCConfig()
    package var required = ConsoleRequirementConfig()
    package var session = ConsoleSessionConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, auth, oidc, required, session
        case baseURL = "base_url"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        auth = try c.decode(.auth, default: auth)
        baseURL = try c.decodeOptional(.baseURL)
        oidc = try c.decode(.oidc, default: oidc)
        required = try c.decode(.required, default: required)
        session = try c.decode(.session, default: session)
    }

    /// The sign-in's redirect URI.
    package var callbackURL: String? {
        baseURL.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/console/callback" }
    }
}

/// `console.oidc`: the console's own client at the hospital's IdP.
package struct ConsoleOIDCConfig: Sendable, Decodable {
    /// The issuer identifier; its discovery document names the endpoints.
    package var issuer = ""
    package var clientID = ""
    package var clientSecret: Secret?
    package var authMethod: ConsoleClientAuthMethod = .clientSecretBasic
    package var scopes: [String] = ["openid", "profile"]
    package var tls = TLSConfig()
    package var timeoutMS = 10_000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case issuer, scopes, tls
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case authMethod = "auth_method"
        case timeoutMS = "timeout_ms"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        issuer = try c.decode(.issuer, default: issuer)
        clientID = try c.decode(.clientID, default: clientID)
        clientSecret = try c.decodeOptional(.clientSecret)
        authMethod = try c.decode(.authMethod, default: authMethod)
        scopes = try c.decode(.scopes, default: scopes)
        tls = try c.decode(.tls, default: tls)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
    }
}

/// `console.required`: a person is let in with at least one of these scopes (granted at sign-in),
/// roles or groups (claims of the ID token, at dotted claim paths).
package struct ConsoleRequirementConfig: Sendable, Decodable {
    package var scopes: [String] = []
    package var roles: [String] = []
    package var rolesClaim = "roles"
    package var groups: [String] = []
    package var groupsClaim = "groups"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case scopes, roles, groups
        case rolesClaim = "roles_claim"
        case groupsClaim = "groups_claim"
    }

    package init(scopes: [String] = [], roles: [String] = [], groups: [String] = []) {
        self.scopes = scopes
        self.roles = roles
        self.groups = groups
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        scopes = try c.decode(.scopes, default: scopes)
        roles = try c.decode(.roles, default: roles)
        rolesClaim = try c.decode(.rolesClaim, default: rolesClaim)
        groups = try c.decode(.groups, default: groups)
        groupsClaim = try c.decode(.groupsClaim, default: groupsClaim)
    }

    package var isEmpty: Bool { scopes.isEmpty && roles.isEmpty && groups.isEmpty }
}

/// `console.session`.
package struct ConsoleSessionConfig: Sendable, Decodable {
    package var store: ConsoleSessionStore = .memory
    /// Signed out after this long without a request…
    package var idleTimeoutSeconds = 1800
    /// …and this long after signing in, whatever happens.
    package var absoluteTimeoutSeconds = 28_800

    enum CodingKeys: String, CodingKey, CaseIterable {
        case store
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case absoluteTimeoutSeconds = "absolute_timeout_seconds"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        store = try c.decode(.store, default: store)
        idleTimeoutSeconds = try c.decode(.idleTimeoutSeconds, default: idleTimeoutSeconds)
        absoluteTimeoutSeconds = try c.decode(.absoluteTimeoutSeconds, default: absoluteTimeoutSeconds)
    }
}
