import Foundation
import TollgateConfiguration
import TollgateKit

/// The JSON of `POST /oauth/connections` and `PUT /oauth/connections/{name}`, checked field by
/// field: unknown fields, wrong types, control characters and oversized values are refused with
/// the field's name, never echoed.
struct ConnectionRequestBody {
    static let createFields: Set<String> = ["connection_name", "oauth_flow_type", "client_id", "client_secret", "token_url",
                                            "authorization_url", "scopes", "auth_method", "resource", "url", "orthanc_push", "redirect_uri", "issuer",
                                            "refresh_token"]
    private let fields: [String: String]
    /// `orthanc_push`: absent (nil), removed (`null`: .some(nil)), or set.
    let orthancPush: OrthancPushSettings??

    init(_ body: Data, allowed: Set<String> = createFields) throws(RegistryError) {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw RegistryError(.invalidRequest, "the body must be a JSON object")
        }
        let unknown = object.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw RegistryError(.invalidRequest, "unknown field(s): \(unknown.map { PrintableText.clean($0, limit: 40) }.joined(separator: ", "))")
        }
        var fields: [String: String] = [:]
        if let value = object["orthanc_push"] {
            orthancPush = .some(value is NSNull ? nil : try Self.orthancPush(value))
        } else {
            orthancPush = nil
        }
        for (key, value) in object where key != "orthanc_push" {
            if value is NSNull { continue }
            guard let text = value as? String else { throw RegistryError(.invalidRequest, "\(key) must be a string") }
            let limit = key == "client_secret" || key == "refresh_token" ? 8192 : 2048
            guard text.utf8.count <= limit, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw RegistryError(.invalidRequest, "\(key) must be at most \(limit) bytes without control characters")
            }
            fields[key] = text
        }
        self.fields = fields
    }

    subscript(_ key: String) -> String? { fields[key] }

    /// `{"name": "…", "extra": {…}}`: the name an identifier, `extra` what Orthanc accepts in a
    /// definition, without the keys Tollgate sets and without passwords (kept in the clear).
    static func orthancPush(_ value: Any) throws(RegistryError) -> OrthancPushSettings {
        guard let object = value as? [String: Any], let name = object["name"] as? String, isIdentifier(name, allowingDots: true),
              Set(object.keys).isSubset(of: ["name", "extra"]) else {
            throw RegistryError(.invalidRequest, "orthanc_push must be {\"name\": 1–64 of A–Z a–z 0–9 . - _, \"extra\": {…}}")
        }
        var extra: [String: JSONValue] = [:]
        if let given = object["extra"], !(given is NSNull) {
            guard let members = given as? [String: Any], members.count <= 32,
                  let data = try? JSONSerialization.data(withJSONObject: members), data.count <= 4096,
                  let decoded = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
                throw RegistryError(.invalidRequest, "orthanc_push.extra must be an object of at most 32 members and 4 KB")
            }
            for (key, member) in decoded.sorted(by: { $0.key < $1.key }) {
                guard !TollgateConfig.tollgateDefinitionKeys.contains(key), !["Password", "CertificateKeyPassword"].contains(key) else {
                    throw RegistryError(.invalidRequest, "orthanc_push.extra.\(PrintableText.clean(key, limit: 40)) is set by Tollgate or is a password")
                }
                guard TollgateConfig.isOrthancDefinitionValue(key: key, member) else {
                    throw RegistryError(.invalidRequest, "orthanc_push.extra.\(PrintableText.clean(key, limit: 40)): \(TollgateConfig.orthancDefinitionRule(key))")
                }
            }
            extra = decoded
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
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || (allowingDots && byte == 0x2E)
        }
    }

    static func checkURL(_ value: String?, _ key: String) throws(RegistryError) {
        guard let value else { return }
        guard TollgateConfig.isHTTPURL(value) else { throw RegistryError(.invalidRequest, "\(key) must be an absolute http(s) URL") }
    }

    /// Seed 002 writes scopes comma-separated; the token request wants them space-separated.
    static func normalizedScopes(_ value: String?) -> String {
        (value ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).joined(separator: " ")
    }
}
