import Foundation
import TollgateConfiguration
import TollgateKit
import TollgateOutbound

/// Seed 002's connections as the API shows them: create, read (the organisation's own, else
/// GLOBAL's), change (compare-and-swap on the ETag), delete (revoking its tokens), and the
/// definitions the Orthanc pusher keeps. Tokens are `ConnectionTokens`' business, the browser flow
/// `AuthorizationFlow`'s.
package struct ConnectionCatalog: RegistryPart {
    let context: RegistryContext
    let tokens: ConnectionTokens

    /// `createdBy`: who asked (seed 002's `created_by`), already cleaned by the caller.
    package func create(organization: String, input request: ConnectionInput, createdBy: String? = nil) async throws -> ConnectionView {
        let name = try ConnectionInput.required(request.connectionName, "connection_name")
        try ConnectionRules.checkName(name)
        guard !context.reservedNames.contains(name) else {
            throw RegistryError(.reserved, "\(name) is an outbound server in config.yaml")
        }
        guard let flow = ConnectionFlow(rawValue: try ConnectionInput.required(request.oauthFlowType, "oauth_flow_type")) else {
            throw RegistryError(.invalidRequest, "oauth_flow_type must be one of client_credentials, refresh_token, authorization_code")
        }
        let method = try request.chosenAuthMethod() ?? Self.impliedAuthMethod(request, flow: flow)
        let settings = ConnectionSettings(
            clientID: try ConnectionInput.required(request.clientID, "client_id"), tokenURL: try ConnectionInput.required(request.tokenURL, "token_url"),
            authorizationURL: request.authorizationURL, scopes: ConnectionRules.normalizedScopes(request.scopes),
            authMethod: method, resource: request.resource, url: request.url, orthancPush: request.orthancPush ?? nil,
            redirectURI: request.redirectURI, issuer: request.issuer, displayName: request.displayName, description: request.description,
            keyID: request.keyID, revocationURL: request.revocationURL)
        try check(settings, flow: flow)
        try await checkPushName(settings, connectionID: nil)
        var secrets = ConnectionSecrets(clientSecret: request.clientSecret, privateKey: request.privateKey)
        try Self.checkCredentials(secrets, method: method, flow: flow)
        if let refreshToken = request.refreshToken {
            guard flow != .clientCredentials else {
                throw RegistryError(.invalidRequest, "refresh_token is for refresh_token and authorization_code connections")
            }
            secrets.refreshToken = try ConnectionRules.checkedRefreshToken(refreshToken)
        }
        let id = UUID().uuidString.lowercased()
        let now = clock.now()
        let record = ConnectionRecord(
            id: id, organization: organization, name: name, flow: flow, settings: settings,
            status: .notConnected, sealed: try seal(secrets, id), createdAt: now, createdBy: createdBy, updatedAt: now)
        guard try await stored({ try await self.store.insert(record) }) else {
            throw RegistryError(.exists, "\(organization) already has a connection named \(name)")
        }
        return view(record)
    }

    /// Seed 002's client sends no auth_method: an authorization-code connection without a secret
    /// is a public client, a `private_key` means `private_key_jwt`.
    private static func impliedAuthMethod(_ request: ConnectionInput, flow: ConnectionFlow) -> ConnectionSettings.AuthMethod {
        if request.privateKey != nil { return .privateKeyJWT }
        if request.clientSecret == nil, flow == .authorizationCode { return .none }
        return .clientSecretBasic
    }

    /// The credential each method needs, and no other (a public client holds no secret).
    static func checkCredentials(_ secrets: ConnectionSecrets, method: ConnectionSettings.AuthMethod, flow: ConnectionFlow) throws {
        switch method {
        case .clientSecretBasic, .clientSecretPost:
            guard let secret = secrets.clientSecret, !secret.isEmpty else { throw RegistryError(.invalidRequest, "client_secret is required") }
            guard secrets.privateKey == nil else { throw RegistryError(.invalidRequest, "private_key is for auth_method private_key_jwt") }
        case .none:
            guard flow != .clientCredentials else {
                throw RegistryError(.invalidRequest, "auth_method none (a public client) is for authorization_code and refresh_token connections")
            }
            guard secrets.clientSecret == nil, secrets.privateKey == nil else {
                throw RegistryError(.invalidRequest, "a public client (auth_method none) holds no client_secret or private_key")
            }
        case .privateKeyJWT:
            guard let key = secrets.privateKey, RuntimeClientAuthentication.isUsablePrivateKey(key) else {
                throw RegistryError(.invalidRequest, "private_key must be a PEM RSA or P-256 EC private key")
            }
            guard secrets.clientSecret == nil else { throw RegistryError(.invalidRequest, "client_secret is not used with private_key_jwt") }
        }
    }

    /// The organisation's own connection, else GLOBAL's.
    package func get(organization: String, name: String) async throws -> ConnectionView {
        view(try await resolve(organization: organization, name: name))
    }

    /// The base URL `/proxy/{name}` forwards to (the organisation's connection, else GLOBAL's).
    package func upstreamURL(organization: String, name: String) async throws -> String {
        try Self.url(of: try await resolve(organization: organization, name: name))
    }

    static func url(of record: ConnectionRecord) throws -> String {
        guard let url = record.settings.url else {
            throw RegistryError(.invalidRequest, "\(record.name) has no url to proxy to: set one with PUT")
        }
        return url
    }

    /// The organisation's connections and (`includeGlobal`) the GLOBAL ones it does not shadow.
    package func list(organization: String, includeGlobal: Bool = true) async throws -> [ConnectionView] {
        let own = try await stored { try await self.store.list(organization: organization) }
        var records = own
        if includeGlobal, organization != RuntimeConnections.globalOrganization {
            let names = Set(own.map(\.name))
            records += try await stored { try await self.store.list(organization: RuntimeConnections.globalOrganization) }.filter { !names.contains($0.name) }
        }
        return records.sorted { $0.name < $1.name }.map(view)
    }

    /// Every organisation that has a connection, for the console's picker.
    package func organizations() async throws -> [String] {
        Array(Set(try await stored { try await self.store.all() }.map(\.organization))).sorted()
    }

    /// Changes the organisation's own connection: compare-and-swap when `ifMatch` (its ETag) is
    /// sent, last writer wins when not. New credentials drop the held token.
    package func update(organization: String, name: String, ifMatch: String?, input request: ConnectionInput) async throws -> ConnectionView {
        let expected = try ifMatch.map { header in
            guard let generation = Self.generation(header) else { throw RegistryError(.invalidRequest, "If-Match must be the connection's ETag") }
            return generation
        }
        let record = try await own(organization: organization, name: name)
        if let expected, record.generation != expected {
            throw RegistryError(.generationMismatch, "the connection is at generation \(record.generation), not \(expected)")
        }
        if let renamed = request.connectionName, renamed != name { throw RegistryError(.invalidRequest, "connection_name cannot change") }
        if let flow = request.oauthFlowType, flow != record.flow.rawValue { throw RegistryError(.invalidRequest, "oauth_flow_type cannot change") }
        guard request.refreshToken == nil else {
            throw RegistryError(.invalidRequest, "import a refresh token with POST /oauth/connections/{name}/refresh-token")
        }
        let before = record.settings
        let settings = try request.applied(to: before)
        try check(settings, flow: record.flow)
        try await checkPushName(settings, connectionID: record.id)
        var secrets = try open(record)
        // The stored credential and refresh token go where these say: a new place needs the
        // credential again (else any admin caller could send it to a server of theirs), and the
        // tokens the old place issued are dropped.
        if settings.sendsCredentialsElsewhere(than: before) {
            switch settings.authMethod {
            case .clientSecretBasic, .clientSecretPost:
                guard request.clientSecret != nil else {
                    throw RegistryError(
                        .secretRequired,
                        "changing token_url, authorization_url, revocation_url, issuer, auth_method or client_id needs client_secret again in the same request")
                }
            case .privateKeyJWT:
                guard request.privateKey != nil else {
                    throw RegistryError(
                        .secretRequired,
                        "changing token_url, authorization_url, revocation_url, issuer, auth_method or client_id needs private_key again in the same request")
                }
            case .none:
                break
            }
            secrets.refreshToken = nil
        }
        if let secret = request.clientSecret { secrets.clientSecret = secret }
        if let key = request.privateKey { secrets.privateKey = key }
        if !settings.authMethod.usesClientSecret { secrets.clientSecret = request.clientSecret }
        if settings.authMethod != .privateKeyJWT { secrets.privateKey = request.privateKey }
        try Self.checkCredentials(secrets, method: settings.authMethod, flow: record.flow)
        let dropsToken = settings.tokenSource != before.tokenSource || request.clientSecret != nil || request.privateKey != nil
        if dropsToken { secrets.forgetAccessToken() }
        let sealed = try seal(secrets, record.id)
        let outcome = try await mutate(record) { row in
            row.settings = settings
            row.sealed = sealed
            if dropsToken {
                row.expiresAt = nil
                row.status = .notConnected
                row.statusMessage = nil
            }
        }
        guard let written = outcome.written else { throw RegistryError(.generationMismatch, "the connection changed meanwhile; read it again") }
        return view(written)
    }

    /// Removes the organisation's own connection, unless something still depends on it.
    package func delete(organization: String, name: String) async throws {
        let record = try await own(organization: organization, name: name)
        let dependents = try await stored { try await self.store.dependencies(connectionID: record.id) }
        guard dependents.isEmpty else {
            throw RegistryError(.inUse, "\(dependents.count) dependent(s) still use \(name): remove them first")
        }
        guard try await stored({ try await self.store.delete(id: record.id) }) else {
            throw RegistryError(.notFound, "\(organization) has no connection named \(PrintableText.clean(name, limit: 64))")
        }
        // After the delete: a revocation that fails never keeps a connection someone removed.
        if let secrets = try? open(record) {
            let settings = record.settings
            let liveAccessToken = (record.expiresAt ?? 0) > clock.now() ? secrets.accessToken : nil
            await tokens.revoke(
                refreshToken: secrets.refreshToken, accessToken: liveAccessToken, settings: settings, secrets: secrets,
                reason: "the connection was deleted")
        }
    }

    private func check(_ settings: ConnectionSettings, flow: ConnectionFlow) throws {
        guard !settings.clientID.isEmpty, settings.clientID.utf8.count <= 256 else { throw RegistryError(.invalidRequest, "client_id must be 1–256 bytes") }
        try ConnectionRules.checkURL(settings.tokenURL, "token_url")
        try ConnectionRules.checkURL(settings.authorizationURL, "authorization_url")
        try ConnectionRules.checkURL(settings.url, "url")
        try ConnectionRules.checkURL(settings.redirectURI, "redirect_uri")
        try ConnectionRules.checkURL(settings.issuer, "issuer")
        try ConnectionRules.checkURL(settings.revocationURL, "revocation_url")
        if let keyID = settings.keyID, !(1...256).contains(keyID.utf8.count) { throw RegistryError(.invalidRequest, "key_id must be 1–256 bytes") }
        if let display = settings.displayName, !(1...255).contains(display.count) { throw RegistryError(.invalidRequest, "name must be 1–255 characters") }
        if let description = settings.description, description.count > 500 {
            throw RegistryError(.invalidRequest, "description must be at most 500 characters")
        }
        guard flow == .authorizationCode else {
            guard settings.redirectURI == nil, settings.issuer == nil else {
                throw RegistryError(.invalidRequest, "redirect_uri and issuer are for authorization_code connections")
            }
            return
        }
        guard settings.authorizationURL != nil else { throw RegistryError(.invalidRequest, "authorization_url is required for authorization_code") }
        guard settings.redirectURI != nil || config.callbackBaseURL != nil else {
            throw RegistryError(.invalidRequest, "redirect_uri is required unless registry.callback_base_url is configured")
        }
        guard !settings.requestsOpenID || settings.issuer != nil else {
            throw RegistryError(.invalidRequest, "issuer is required when scopes include openid: the ID token is checked against it")
        }
    }

    /// An `orthanc_push` needs the connection's `url` and a name no other definition uses.
    private func checkPushName(_ settings: ConnectionSettings, connectionID: String?) async throws {
        guard let push = settings.orthancPush else { return }
        guard settings.url != nil else { throw RegistryError(.invalidRequest, "orthanc_push needs the connection's url (the DICOMweb root Orthanc calls)") }
        guard !context.reservedPushNames.contains(push.name) else {
            throw RegistryError(.reserved, "\(push.name) is an orthanc.dicomweb_servers entry in config.yaml")
        }
        let taken = try await stored { try await self.store.all() }.contains { other in
            other.id != connectionID && other.settings.orthancPush?.name == push.name
        }
        guard !taken else { throw RegistryError(.exists, "another connection already pushes \(push.name) into Orthanc") }
    }

    /// Every connection with an `orthanc_push` and a `url`: what the Orthanc pusher keeps current.
    package func pushDefinitions() async throws -> [(record: ConnectionRecord, push: OrthancPushSettings, url: String)] {
        try await stored { try await self.store.all() }.compactMap { record in
            guard let push = record.settings.orthancPush, let url = record.settings.url else { return nil }
            return (record, push, url)
        }
    }

    /// `"3"`, `W/"3"` or `3`: a generation.
    static func generation(_ ifMatch: String) -> Int? {
        var text = Substring(ifMatch.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// The refresh token a connection holds, for `registry.expose_refresh_tokens` (seed 002's
    /// credentials answer); nil otherwise.
    package func exposedRefreshToken(organization: String, name: String) async throws -> String? {
        guard config.exposeRefreshTokens else { return nil }
        return try open(try await resolve(organization: organization, name: name)).refreshToken
    }
}
