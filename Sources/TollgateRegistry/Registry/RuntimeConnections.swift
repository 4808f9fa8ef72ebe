import AsyncHTTPClient
import Foundation
import Synchronization
import TollgateKit
import TollgateOutbound

/// A connection as the API shows it: settings and state, never a secret.
public struct ConnectionView: Sendable {
    public let record: ConnectionRecord
    public let settings: ConnectionSettings
    public let hasClientSecret: Bool
}

/// A live access token for a caller (the credentials endpoint).
public struct ConnectionCredentials: Sendable {
    public let accessToken: String
    public let expiresAt: Double
    /// Whole seconds left when it was handed out.
    public let expiresIn: Int
    public let scope: String?
}

/// Seed 002's operations on runtime connections: per organisation with a GLOBAL fallback on
/// reads, compare-and-swap writes, and tokens fetched once per connection however many callers
/// ask, sealed into the store so a restart keeps them.
public final class RuntimeConnections: Sendable {
    public static let globalOrganization = "GLOBAL"
    /// Without `min_ttl`, a token is handed out only with at least this long to live.
    public static let defaultMinTTLSeconds = 30

    public let registry: ConnectionRegistry
    private let reservedNames: Set<String>
    private let http: HTTPClient
    private let clock: any TollgateClock
    private let timeoutMS: Int
    private let flights = Mutex<[String: Task<Result<ConnectionCredentials, RegistryError>, Never>]>([:])

    /// `reservedNames`: the static `outbound.servers`, which win over runtime names.
    public init(registry: ConnectionRegistry, reservedNames: Set<String>, http: HTTPClient, clock: any TollgateClock, timeoutMS: Int = 10_000) {
        self.registry = registry
        self.reservedNames = reservedNames
        self.http = http
        self.clock = clock
        self.timeoutMS = timeoutMS
    }

    /// The organisation an `X-Organization-Id` names: GLOBAL when absent.
    public static func organization(header: String?) throws -> String {
        guard let header else { return globalOrganization }
        guard ConnectionRequestBody.isIdentifier(header, allowingDots: true) else {
            throw RegistryError(.invalidRequest, "X-Organization-Id must be 1–64 of A–Z, a–z, 0–9, '.', '-' and '_'")
        }
        return header
    }

    private var store: any ConnectionStore { registry.store }
    private var keyring: RegistryKeyring { registry.keyring }

    // MARK: Connections

    public func create(organization: String, body: Data) async throws -> ConnectionView {
        let request = try ConnectionRequestBody(body)
        let name = try request.required("connection_name")
        try ConnectionRequestBody.checkName(name)
        guard !reservedNames.contains(name) else {
            throw RegistryError(.reserved, "\(name) is an outbound server in config.yaml")
        }
        guard let flow = ConnectionFlow(rawValue: try request.required("oauth_flow_type")) else {
            throw RegistryError(.invalidRequest, "oauth_flow_type must be one of client_credentials, refresh_token, authorization_code")
        }
        guard flow == .clientCredentials else {
            throw RegistryError(.unsupportedFlow, "\(flow.rawValue) connections are not available yet; client_credentials is")
        }
        let settings = ConnectionSettings(
            clientID: try request.required("client_id"), tokenURL: try request.required("token_url"),
            authorizationURL: request["authorization_url"], scopes: ConnectionRequestBody.normalizedScopes(request["scopes"]),
            authMethod: try Self.authMethod(request["auth_method"]) ?? .clientSecretBasic, resource: request["resource"])
        try Self.check(settings)
        let secret = try request.required("client_secret")
        let id = UUID().uuidString.lowercased()
        let now = clock.now()
        let record = ConnectionRecord(id: id, organization: organization, name: name, flow: flow, settings: settings.encoded(),
                                      status: .notConnected, sealed: try seal(ConnectionSecrets(clientSecret: secret), id),
                                      createdAt: now, updatedAt: now)
        guard try await stored({ try await self.store.insert(record) }) else {
            throw RegistryError(.exists, "\(organization) already has a connection named \(name)")
        }
        return try view(record)
    }

    /// The organisation's own connection, else GLOBAL's.
    public func get(organization: String, name: String) async throws -> ConnectionView {
        try view(try await resolve(organization: organization, name: name))
    }

    /// The organisation's connections and the GLOBAL ones it does not shadow.
    public func list(organization: String) async throws -> [ConnectionView] {
        let own = try await stored { try await self.store.list(organization: organization) }
        var records = own
        if organization != Self.globalOrganization {
            let names = Set(own.map(\.name))
            records += try await stored { try await self.store.list(organization: Self.globalOrganization) }.filter { !names.contains($0.name) }
        }
        return try records.sorted { $0.name < $1.name }.map(view)
    }

    /// Changes the organisation's own connection, if it is still at generation `ifMatch` (its ETag).
    /// New credentials drop the held token.
    public func update(organization: String, name: String, ifMatch: String?, body: Data) async throws -> ConnectionView {
        guard let ifMatch else {
            throw RegistryError(.preconditionRequired, "send If-Match with the connection's ETag (its generation)")
        }
        guard let expected = Self.generation(ifMatch) else { throw RegistryError(.invalidRequest, "If-Match must be the connection's ETag") }
        let request = try ConnectionRequestBody(body)
        guard var record = try await stored({ try await self.store.find(organization: organization, name: name) }) else {
            throw RegistryError(.notFound, "\(organization) has no connection named \(PrintableText.clean(name, limit: 64))")
        }
        guard record.generation == expected else {
            throw RegistryError(.generationMismatch, "the connection is at generation \(record.generation), not \(expected)")
        }
        if let renamed = request["connection_name"], renamed != name { throw RegistryError(.invalidRequest, "connection_name cannot change") }
        if let flow = request["oauth_flow_type"], flow != record.flow.rawValue { throw RegistryError(.invalidRequest, "oauth_flow_type cannot change") }
        let before = try ConnectionSettings.decoded(record.settings)
        var settings = before
        if let value = request["client_id"] { settings.clientID = value }
        if let value = request["token_url"] { settings.tokenURL = value }
        if let value = request["authorization_url"] { settings.authorizationURL = value }
        if let value = request["scopes"] { settings.scopes = ConnectionRequestBody.normalizedScopes(value) }
        if let value = try Self.authMethod(request["auth_method"]) { settings.authMethod = value }
        if let value = request["resource"] { settings.resource = value }
        try Self.check(settings)
        var secrets = try open(record)
        if let secret = request["client_secret"] {
            guard !secret.isEmpty else { throw RegistryError(.invalidRequest, "client_secret must not be empty") }
            secrets.clientSecret = secret
        }
        if settings != before || request["client_secret"] != nil {
            secrets.accessToken = nil
            secrets.tokenScope = nil
            record.expiresAt = nil
            record.status = .notConnected
            record.statusMessage = nil
        }
        record.settings = settings.encoded()
        record.sealed = try seal(secrets, record.id)
        record.updatedAt = clock.now()
        let next = record
        guard try await stored({ try await self.store.update(next, from: expected) }) else {
            throw RegistryError(.generationMismatch, "the connection changed meanwhile; read it again")
        }
        record.generation = expected + 1
        return try view(record)
    }

    /// Removes the organisation's own connection, unless something still depends on it.
    public func delete(organization: String, name: String) async throws {
        guard let record = try await stored({ try await self.store.find(organization: organization, name: name) }) else {
            throw RegistryError(.notFound, "\(organization) has no connection named \(PrintableText.clean(name, limit: 64))")
        }
        let dependents = try await stored { try await self.store.dependencies(connectionID: record.id) }
        guard dependents.isEmpty else {
            throw RegistryError(.inUse, "\(dependents.count) dependent(s) still use \(name): remove them first")
        }
        _ = try await stored { try await self.store.delete(id: record.id) }
    }

    // MARK: Dependencies

    public func addDependency(organization: String, name: String, body: Data) async throws -> ConnectionDependency {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
              let id = object["dependent_id"] as? String, (1...128).contains(id.utf8.count),
              id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw RegistryError(.invalidRequest, "dependent_id is required: 1–128 visible ASCII characters")
        }
        let label = object["dependent_name"] as? String ?? id
        let record = try await resolve(organization: organization, name: name)
        let dependency = ConnectionDependency(dependentID: id, dependentName: PrintableText.clean(label, limit: 256), createdAt: clock.now())
        try await stored { try await self.store.addDependency(connectionID: record.id, dependency) }
        return try await stored { try await self.store.dependencies(connectionID: record.id) }.first { $0.dependentID == id } ?? dependency
    }

    public func dependencies(organization: String, name: String) async throws -> [ConnectionDependency] {
        let record = try await resolve(organization: organization, name: name)
        return try await stored { try await self.store.dependencies(connectionID: record.id) }
    }

    public func removeDependency(organization: String, name: String, dependentID: String) async throws {
        let record = try await resolve(organization: organization, name: name)
        guard try await stored({ try await self.store.removeDependency(connectionID: record.id, dependentID: dependentID) }) else {
            throw RegistryError(.notFound, "no dependent \(PrintableText.clean(dependentID, limit: 128)) on \(name)")
        }
    }

    // MARK: Tokens

    /// A token with at least `minTTL` seconds to live: the held one, else one fetched now (once per
    /// connection however many callers ask). `force` fetches a new one regardless (the test route).
    public func credentials(organization: String, name: String, minTTL: Int = RuntimeConnections.defaultMinTTLSeconds,
                            force: Bool = false) async throws -> ConnectionCredentials {
        let record = try await resolve(organization: organization, name: name)
        if !force, let held = try usable(record, minTTL: minTTL) { return held }
        let flight = flights.withLock { flights in
            if let running = flights[record.id] { return running }
            let task = Task { await self.fetch(record: record) }
            flights[record.id] = task
            return task
        }
        let result = await flight.value
        flights.withLock { if $0[record.id] == flight { $0[record.id] = nil } }
        return try result.get()
    }

    private func fetch(record first: ConnectionRecord) async -> Result<ConnectionCredentials, RegistryError> {
        do {
            var record = first
            let settings = try ConnectionSettings.decoded(record.settings)
            var secrets = try open(record)
            guard let secret = secrets.clientSecret else { return .failure(RegistryError(.tokenUnavailable, "\(record.name) has no client secret")) }
            let request = ClientCredentialsRequest(
                tokenEndpoint: settings.tokenURL,
                credentials: ClientCredentials(clientID: settings.clientID, secret: Secret(secret),
                                               method: settings.authMethod == .clientSecretPost ? .clientSecretPost : .clientSecretBasic),
                scope: settings.scopes.isEmpty ? nil : settings.scopes, resource: settings.resource, timeoutMS: timeoutMS, http: http)
            let clock = self.clock
            switch await request.fetch(now: { clock.now() }) {
            case .failure(let error):
                record.status = .failed
                record.statusMessage = PrintableText.clean(error.description, limit: 256)
                record.updatedAt = clock.now()
                let failed = record
                _ = try? await store.update(failed, from: first.generation)
                return .failure(RegistryError(.tokenUnavailable, "no token for \(record.name): \(record.statusMessage ?? "")"))
            case .success(let token):
                secrets.accessToken = token.value
                secrets.tokenScope = token.scope ?? (settings.scopes.isEmpty ? nil : settings.scopes)
                record.sealed = try seal(secrets, record.id)
                record.expiresAt = token.expiresAt
                record.lastRefreshAt = token.obtainedAt
                record.status = .completed
                record.statusMessage = nil
                record.updatedAt = clock.now()
                let next = record
                // Losing the write to another writer is fine: this token is as valid as theirs.
                _ = try await store.update(next, from: first.generation)
                return .success(ConnectionCredentials(accessToken: token.value, expiresAt: token.expiresAt,
                                                      expiresIn: token.secondsLeft(at: clock.now()), scope: secrets.tokenScope))
            }
        } catch let error as RegistryError {
            return .failure(error)
        } catch {
            return .failure(RegistryError(.storeUnavailable, "the registry store failed"))
        }
    }

    private func usable(_ record: ConnectionRecord, minTTL: Int) throws -> ConnectionCredentials? {
        guard let expiresAt = record.expiresAt, expiresAt - clock.now() >= Double(max(minTTL, 1)) else { return nil }
        let secrets = try open(record)
        guard let token = secrets.accessToken else { return nil }
        return ConnectionCredentials(accessToken: token, expiresAt: expiresAt, expiresIn: max(0, Int(saturating: expiresAt - clock.now())),
                                     scope: secrets.tokenScope)
    }

    // MARK: Helpers

    private func resolve(organization: String, name: String) async throws -> ConnectionRecord {
        if let own = try await stored({ try await self.store.find(organization: organization, name: name) }) { return own }
        if organization != Self.globalOrganization,
           let global = try await stored({ try await self.store.find(organization: Self.globalOrganization, name: name) }) { return global }
        throw RegistryError(.notFound, "no connection named \(PrintableText.clean(name, limit: 64))")
    }

    private func view(_ record: ConnectionRecord) throws -> ConnectionView {
        ConnectionView(record: record, settings: try ConnectionSettings.decoded(record.settings),
                       hasClientSecret: (try? open(record).clientSecret) != nil)
    }

    private func seal(_ secrets: ConnectionSecrets, _ id: String) throws -> SealedSecrets {
        do { return try keyring.seal(secrets, rowID: id) } catch { throw RegistryError(.storeUnavailable, "cannot seal the connection's secrets") }
    }

    private func open(_ record: ConnectionRecord) throws -> ConnectionSecrets {
        do { return try keyring.open(record.sealed, rowID: record.id) } catch {
            throw RegistryError(.storeUnavailable, "the secrets of \(record.name) do not open: \(error)")
        }
    }

    /// Store failures become one answer; a `RegistryError` passes through.
    private func stored<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as RegistryError { throw error } catch {
            throw RegistryError(.storeUnavailable, "the registry store failed")
        }
    }

    private static func authMethod(_ value: String?) throws -> ConnectionSettings.AuthMethod? {
        guard let value else { return nil }
        guard let method = ConnectionSettings.AuthMethod(rawValue: value) else {
            throw RegistryError(.invalidRequest, "auth_method must be client_secret_basic or client_secret_post")
        }
        return method
    }

    private static func check(_ settings: ConnectionSettings) throws {
        guard !settings.clientID.isEmpty, settings.clientID.utf8.count <= 256 else { throw RegistryError(.invalidRequest, "client_id must be 1–256 bytes") }
        try ConnectionRequestBody.checkURL(settings.tokenURL, "token_url")
        try ConnectionRequestBody.checkURL(settings.authorizationURL, "authorization_url")
    }

    /// `"3"`, `W/"3"` or `3`: a generation.
    static func generation(_ ifMatch: String) -> Int? {
        var text = Substring(ifMatch.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}
