import Foundation
import TollgateConfiguration
import TollgateKit
import TollgateRegistry

/// The connection API's request bodies, the HTTP edge's types. Each is read strictly first (a
/// member twice, a lone surrogate, trailing bytes or nesting too deep refuse the body), then
/// decoded field by field: an unknown field, a wrong type, a control character or an oversized
/// value is refused with the field's name and is never echoed. `null` reads as absent. What the
/// values mean (names, URLs, the credential a method needs) is the registry's to check.
enum ConnectionRequests {
    /// `body` as `T`, or the refusal that says why not.
    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws(RegistryError) -> T {
        do {
            return try StrictJSON.decode(T.self, from: body)
        } catch let refusal as RegistryError {
            throw refusal
        } catch let failure as StrictJSON.Failure {
            throw RegistryError(.invalidRequest, "the body must be a JSON object (\(failure.reason))")
        } catch {
            throw RegistryError(.invalidRequest, "the body must be a JSON object")
        }
    }
}

/// A member name as the JSON has it, for reading an object whose names are checked one by one.
struct MemberName: CodingKey {
    let stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == MemberName {
    /// Refuses the object when it has a member outside `allowed`, naming (cleaned) the ones it has.
    func refuseUnknown(allowing allowed: some Sequence<String>) throws(RegistryError) {
        let known = Set(allowed)
        let unknown = allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw RegistryError(.invalidRequest, "unknown field(s): \(unknown.map { PrintableText.clean($0, limit: 40) }.joined(separator: ", "))")
        }
    }

    /// Whether `name` is given with a value (`null` reads as absent).
    func holds(_ name: String) -> Bool {
        let key = MemberName(stringValue: name)
        return contains(key) && (try? decodeNil(forKey: key)) == false
    }

    /// A string member: nil when absent or `null`; refused when of another type, longer than
    /// `limit` bytes, or holding a control character (line breaks too, unless `allowingLines`).
    func text(_ name: String, limit: Int = 2048, allowingLines: Bool = false) throws(RegistryError) -> String? {
        let key = MemberName(stringValue: name)
        guard holds(name) else { return nil }
        guard let text = try? decode(String.self, forKey: key) else { throw RegistryError(.invalidRequest, "\(name) must be a string") }
        guard text.utf8.count <= limit,
            text.unicodeScalars.allSatisfy({
                ($0.value >= 0x20 && !(0x7F...0x9F).contains($0.value)) || (allowingLines && ($0 == "\n" || $0 == "\r"))
            })
        else {
            throw RegistryError(.invalidRequest, "\(name) must be at most \(limit) bytes without control characters")
        }
        return text
    }
}

/// `POST /oauth/connections` and `PUT /oauth/connections/{name}`. Adding a field is a case here,
/// a member of `ConnectionInput`, and what the registry does with it.
struct ConnectionRequest: Decodable {
    enum Field: String, CaseIterable {
        case connectionName = "connection_name", oauthFlowType = "oauth_flow_type", clientID = "client_id", clientSecret = "client_secret"
        case tokenURL = "token_url", authorizationURL = "authorization_url", scopes, authMethod = "auth_method"
        case tokenEndpointAuthMethod = "token_endpoint_auth_method", resource, url, orthancPush = "orthanc_push", redirectURI = "redirect_uri"
        case issuer, refreshToken = "refresh_token", displayName = "name", description, privateKey = "private_key", keyID = "key_id"
        case revocationURL = "revocation_url"

        /// Where a string field lands; `orthanc_push` is an object of its own.
        var member: WritableKeyPath<ConnectionInput, String?>? {
            switch self {
            case .connectionName: \.connectionName
            case .oauthFlowType: \.oauthFlowType
            case .clientID: \.clientID
            case .clientSecret: \.clientSecret
            case .tokenURL: \.tokenURL
            case .authorizationURL: \.authorizationURL
            case .scopes: \.scopes
            case .authMethod: \.authMethod
            case .tokenEndpointAuthMethod: \.tokenEndpointAuthMethod
            case .resource: \.resource
            case .url: \.url
            case .orthancPush: nil
            case .redirectURI: \.redirectURI
            case .issuer: \.issuer
            case .refreshToken: \.refreshToken
            case .displayName: \.displayName
            case .description: \.description
            case .privateKey: \.privateKey
            case .keyID: \.keyID
            case .revocationURL: \.revocationURL
            }
        }

        /// Secrets may be longer (a PEM key, a refresh token); a PEM key is lines.
        var limit: Int { self == .clientSecret || self == .refreshToken || self == .privateKey ? 8192 : 2048 }
    }

    let input: ConnectionInput

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: MemberName.self)
        try object.refuseUnknown(allowing: Field.allCases.map(\.rawValue))
        var input = ConnectionInput()
        for field in Field.allCases {
            if let member = field.member {
                input[keyPath: member] = try object.text(field.rawValue, limit: field.limit, allowingLines: field == .privateKey)
            }
        }
        let push = MemberName(stringValue: Field.orthancPush.rawValue)
        if object.contains(push) {
            if try object.decodeNil(forKey: push) {
                input.orthancPush = .some(nil)
            } else {
                guard let node = try? object.decode(JSONNode.self, forKey: push) else { throw Self.pushShape }
                input.orthancPush = .some(try Self.orthancPush(node))
            }
        }
        self.input = input
    }

    static let pushShape = RegistryError(.invalidRequest, "orthanc_push must be {\"name\": 1–64 of A–Z a–z 0–9 . - _, \"extra\": {…}}")

    /// `{"name": "…", "extra": {…}}`: the name an identifier, `extra` what Orthanc accepts in a
    /// definition, without the keys Tollgate sets and without passwords (kept in the clear).
    static func orthancPush(_ value: JSONNode) throws(RegistryError) -> OrthancPushSettings {
        guard let object = value.object, let name = object["name"]?.string, ConnectionRules.isIdentifier(name, allowingDots: true),
            Set(object.members.map(\.name)).isSubset(of: ["name", "extra"])
        else { throw pushShape }
        var extra: [String: JSONNode] = [:]
        if let given = object["extra"], given != .null {
            guard let members = given.object, members.count <= 32, given.rendered.utf8.count <= 4096 else {
                throw RegistryError(.invalidRequest, "orthanc_push.extra must be an object of at most 32 members and 4 KB")
            }
            for (key, member) in members.members.sorted(by: { $0.name < $1.name }) {
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
}

/// `POST /oauth/connections/{name}/refresh-token`: `{"refresh_token": "…"}`.
struct RefreshTokenRequest: Decodable {
    let refreshToken: String

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: MemberName.self)
        try object.refuseUnknown(allowing: ["refresh_token"])
        guard let token = try object.text("refresh_token", limit: 8192), !token.isEmpty else {
            throw RegistryError(.invalidRequest, "refresh_token is required")
        }
        refreshToken = token
    }
}

/// `POST /oauth/connections/{name}/dependencies`: `dependent_id` and `dependent_name`, or the
/// seed's `workflow_id` and `workflow_name`, one of each pair.
struct DependencyRequest: Decodable {
    let dependentID: String?
    let label: String?

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: MemberName.self)
        try object.refuseUnknown(allowing: ["dependent_id", "dependent_name", "workflow_id", "workflow_name"])
        dependentID = try Self.oneOf(object, "dependent_id", "workflow_id")
        label = try Self.oneOf(object, "dependent_name", "workflow_name")
    }

    /// The one string member among `names` (today's name or the seed's), nil when none is sent.
    static func oneOf(_ object: KeyedDecodingContainer<MemberName>, _ names: String...) throws(RegistryError) -> String? {
        let present = names.filter(object.holds)
        guard present.count <= 1 else { throw RegistryError(.invalidRequest, "send one of \(names.joined(separator: ", "))") }
        guard let name = present.first else { return nil }
        guard let value = try? object.decode(String.self, forKey: MemberName(stringValue: name)) else {
            throw RegistryError(.invalidRequest, "\(name) must be a string")
        }
        return value
    }
}

/// Seed 002's `POST /workflows/{workflow_id}/dependencies`: `{"connection_name", "workflow_name"?}`.
struct WorkflowDependencyRequest: Decodable {
    let connectionName: String
    let label: String?

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: MemberName.self)
        try object.refuseUnknown(allowing: ["connection_name", "workflow_name"])
        let name = MemberName(stringValue: "connection_name")
        guard let connection = try? object.decode(String.self, forKey: name) else {
            throw RegistryError(.invalidRequest, "connection_name is required")
        }
        connectionName = connection
        label = try DependencyRequest.oneOf(object, "workflow_name")
    }
}
