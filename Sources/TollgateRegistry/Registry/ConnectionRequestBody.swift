import Foundation
import TollgateConfiguration
import TollgateKit

/// The JSON of `POST /oauth/connections` and `PUT /oauth/connections/{name}`, checked field by
/// field: unknown fields, wrong types, control characters and oversized values are refused with
/// the field's name, never echoed.
struct ConnectionRequestBody {
    static let createFields: Set<String> = [
        "connection_name", "oauth_flow_type", "client_id", "client_secret", "token_url",
        "authorization_url", "scopes", "auth_method", "token_endpoint_auth_method", "resource", "url",
        "orthanc_push", "redirect_uri", "issuer", "refresh_token", "name", "description", "private_key",
        "key_id", "revocation_url",
    ]
    private let fields: [String: String]
    /// `orthanc_push`: absent (nil), removed (`null`: .some(nil)), or set.
    let orthancPush: OrthancPushSettings??

    init(_ body: Data, allowed: Set<String> = createFields) throws(RegistryError) {
        let object = try Self.strictObject(body)
        let unknown = object.members.map(\.name).filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw RegistryError(.invalidRequest, "unknown field(s): \(unknown.map { PrintableText.clean($0, limit: 40) }.joined(separator: ", "))")
        }
        var fields: [String: String] = [:]
        if let value = object["orthanc_push"] {
            orthancPush = .some(value == .null ? nil : try Self.orthancPush(value))
        } else {
            orthancPush = nil
        }
        for (key, value) in object.members where key != "orthanc_push" {
            if value == .null { continue }
            guard let text = value.string else { throw RegistryError(.invalidRequest, "\(key) must be a string") }
            let limit = Self.secretFields.contains(key) ? 8192 : 2048
            // A PEM key is lines: line breaks are its only allowed control characters.
            let allowsLines = key == "private_key"
            guard text.utf8.count <= limit,
                text.unicodeScalars.allSatisfy({
                    ($0.value >= 0x20 && !(0x7F...0x9F).contains($0.value))
                        || (allowsLines && ($0 == "\n" || $0 == "\r"))
                })
            else {
                throw RegistryError(.invalidRequest, "\(key) must be at most \(limit) bytes without control characters")
            }
            fields[key] = text
        }
        self.fields = fields
    }

    static let secretFields: Set<String> = ["client_secret", "refresh_token", "private_key"]

    /// An untrusted body read by the one strict parser: a JSON object, no member twice, no lone
    /// surrogate or invalid UTF-8, bounded depth.
    static func strictObject(_ body: Data) throws(RegistryError) -> JSONObject {
        do {
            return try StrictJSON.object(body)
        } catch {
            throw RegistryError(.invalidRequest, "the body must be a JSON object (\(error.reason))")
        }
    }

    subscript(_ key: String) -> String? { fields[key] }

    /// `auth_method`, or RFC 7591's `token_endpoint_auth_method` (the same when both are sent).
    func authMethod() throws(RegistryError) -> ConnectionSettings.AuthMethod? {
        let given = [fields["auth_method"], fields["token_endpoint_auth_method"]].compactMap { $0 }
        guard let value = given.first else { return nil }
        guard Set(given).count == 1, let method = ConnectionSettings.AuthMethod(rawValue: value) else {
            throw RegistryError(.invalidRequest, "auth_method must be one of client_secret_basic, client_secret_post, none, private_key_jwt")
        }
        return method
    }

    /// `settings` with what this PUT body changes.
    func applied(to settings: ConnectionSettings) throws(RegistryError) -> ConnectionSettings {
        var settings = settings
        if let value = fields["client_id"] { settings.clientID = value }
        if let value = fields["token_url"] { settings.tokenURL = value }
        if let value = fields["authorization_url"] { settings.authorizationURL = value }
        if let value = fields["scopes"] { settings.scopes = Self.normalizedScopes(value) }
        if let value = try authMethod() { settings.authMethod = value }
        if let value = fields["resource"] { settings.resource = value }
        if let value = fields["url"] { settings.url = value }
        if let value = fields["redirect_uri"] { settings.redirectURI = value }
        if let value = fields["issuer"] { settings.issuer = value }
        if let value = fields["name"] { settings.displayName = value }
        if let value = fields["description"] { settings.description = value }
        if let value = fields["key_id"] { settings.keyID = value }
        if let value = fields["revocation_url"] { settings.revocationURL = value }
        if let value = orthancPush { settings.orthancPush = value }
        return settings
    }

    /// `{"name": "…", "extra": {…}}`: the name an identifier, `extra` what Orthanc accepts in a
    /// definition, without the keys Tollgate sets and without passwords (kept in the clear).
    static func orthancPush(_ value: JSONNode) throws(RegistryError) -> OrthancPushSettings {
        guard let object = value.object, let name = object["name"]?.string, isIdentifier(name, allowingDots: true),
            Set(object.members.map(\.name)).isSubset(of: ["name", "extra"])
        else {
            throw RegistryError(.invalidRequest, "orthanc_push must be {\"name\": 1–64 of A–Z a–z 0–9 . - _, \"extra\": {…}}")
        }
        var extra: [String: JSONNode] = [:]
        if let given = object["extra"], given != .null {
            guard let members = given.object, members.count <= 32, given.rendered.utf8.count <= 4096 else {
                throw RegistryError(.invalidRequest, "orthanc_push.extra must be an object of at most 32 members and 4 KB")
            }
            for (key, node) in members.members.sorted(by: { $0.name < $1.name }) {
                let member = node
                guard !TollgateConfig.tollgateDefinitionKeys.contains(key), !["Password", "CertificateKeyPassword"].contains(key) else {
                    throw RegistryError(.invalidRequest, "orthanc_push.extra.\(PrintableText.clean(key, limit: 40)) is set by Tollgate or is a password")
                }
                guard TollgateConfig.isOrthancDefinitionValue(key: key, member) else {
                    throw RegistryError(
                        .invalidRequest, "orthanc_push.extra.\(PrintableText.clean(key, limit: 40)): \(TollgateConfig.orthancDefinitionRule(key))")
                }
                extra[key] = member
            }
        }
        return OrthancPushSettings(name: name, extra: extra)
    }

    func required(_ key: String) throws(RegistryError) -> String {
        guard let value = fields[key], !value.isEmpty else { throw RegistryError(.invalidRequest, "\(key) is required") }
        return value
    }

    static func checkName(_ name: String) throws(RegistryError) {
        guard isIdentifier(name, allowingDots: false) else {
            throw RegistryError(.invalidRequest, "connection_name must be 1–64 of A–Z, a–z, 0–9, - and _")
        }
    }

    /// 1–64 of A–Z, a–z, 0–9, `-`, `_` (and `.` when allowed): names that travel in paths and headers.
    static func isIdentifier(_ text: String, allowingDots: Bool) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F || (allowingDots && byte == 0x2E)
            }
    }

    static func checkURL(_ value: String?, _ key: String) throws(RegistryError) {
        guard let value else { return }
        guard TollgateConfig.isHTTPURL(value) else { throw RegistryError(.invalidRequest, "\(key) must be an absolute http(s) URL") }
        // A URL is stored and shown as it is (redacted in answers, but in clear in the store):
        // credentials belong in the sealed fields.
        if let components = URLComponents(string: value) {
            guard components.user == nil, components.password == nil else {
                throw RegistryError(.invalidRequest, "\(key) must not carry user:password@: send the secret in client_secret")
            }
            if let name = components.queryItems?.map({ $0.name.lowercased() }).first(where: Self.isCredentialParameter) {
                throw RegistryError(
                    .invalidRequest, "\(key) must not carry a \(PrintableText.clean(name, limit: 40)) parameter: credentials belong in the sealed fields")
            }
        }
    }

    /// Query parameters that carry a credential (RFC 6749 and common API-key conventions).
    static func isCredentialParameter(_ name: String) -> Bool {
        let exact: Set<String> = [
            "client_secret", "secret", "password", "passwd", "pwd", "token", "access_token", "refresh_token", "id_token",
            "api_key", "apikey", "api-key", "key", "code", "assertion", "client_assertion", "sig", "signature",
        ]
        return exact.contains(name) || name.hasSuffix("_secret") || name.hasSuffix("_token") || name.hasSuffix("password")
    }

    /// Seed 002 writes scopes comma-separated; the token request wants them space-separated.
    static func normalizedScopes(_ value: String?) -> String {
        (value ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).joined(separator: " ")
    }
}
