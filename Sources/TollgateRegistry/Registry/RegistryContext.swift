import AsyncHTTPClient
import Foundation
import Logging
import TollgateConfiguration
import TollgateKit

/// What the registry's parts share: the store and its keys, the clock, the IdP client, and the
/// names configuration keeps for itself.
final class RegistryContext: Sendable {
    let registry: ConnectionRegistry
    let config: RegistryConfig
    /// The static `outbound.servers`, which win over runtime names.
    let reservedNames: Set<String>
    /// `orthanc.dicomweb_servers` names: a runtime `orthanc_push` cannot take them.
    let reservedPushNames: Set<String>
    let http: HTTPClient
    let clock: any TollgateClock
    let observer: any RegistryObserver
    let timeoutMS: Int
    let logger: Logger

    init(
        registry: ConnectionRegistry, config: RegistryConfig, reservedNames: Set<String>, reservedPushNames: Set<String>, http: HTTPClient,
        clock: any TollgateClock, observer: any RegistryObserver, timeoutMS: Int, logger: Logger
    ) {
        self.registry = registry
        self.config = config
        self.reservedNames = reservedNames
        self.reservedPushNames = reservedPushNames
        self.http = http
        self.clock = clock
        self.observer = observer
        self.timeoutMS = timeoutMS
        self.logger = logger
    }
}

/// One of the registry's parts (`ConnectionCatalog`, `ConnectionTokens`, `AuthorizationFlow`):
/// each reads and writes rows the same way, through what this extension gives them.
protocol RegistryPart: Sendable {
    var context: RegistryContext { get }
}

extension RegistryPart {
    var registry: ConnectionRegistry { context.registry }
    var store: any ConnectionStore { context.registry.store }
    var keyring: RegistryKeyring { context.registry.keyring }
    var config: RegistryConfig { context.config }
    var http: HTTPClient { context.http }
    var clock: any TollgateClock { context.clock }
    var observer: any RegistryObserver { context.observer }
    var timeoutMS: Int { context.timeoutMS }
    var logger: Logger { context.logger }
    /// This process's name on the leases it takes (refreshes are leased across replicas).
    var leaseOwner: String { context.registry.processID }

    /// The organisation's own connection, never GLOBAL's on its behalf (writes).
    func own(organization: String, name: String) async throws -> ConnectionRecord {
        guard let record = try await stored({ try await self.store.find(organization: organization, name: name) }) else {
            throw RegistryError(.notFound, "\(organization) has no connection named \(PrintableText.clean(name, limit: 64))")
        }
        return record
    }

    func resolve(organization: String, name: String) async throws -> ConnectionRecord {
        if let own = try await stored({ try await self.store.find(organization: organization, name: name) }) { return own }
        if organization != RuntimeConnections.globalOrganization,
            let global = try await stored({ try await self.store.find(organization: RuntimeConnections.globalOrganization, name: name) })
        {
            return global
        }
        throw RegistryError(.notFound, "no connection named \(PrintableText.clean(name, limit: 64))")
    }

    func view(_ record: ConnectionRecord) -> ConnectionView {
        let secrets = try? open(record)
        return ConnectionView(
            record: record, hasClientSecret: secrets?.clientSecret != nil,
            hasRefreshToken: secrets?.refreshToken != nil, hasPrivateKey: secrets?.privateKey != nil,
            redirectURI: record.flow == .authorizationCode ? redirectURI(record.settings, name: record.name) : nil)
    }

    /// The redirect URI an authorization request for this connection names.
    /// Without its own, `{registry.callback_base_url}{first of registry.api_prefixes}/callback/{name}`.
    func redirectURI(_ settings: ConnectionSettings, name: String) -> String? {
        settings.redirectURI
            ?? config.callbackBaseURL.map { base in
                (base.hasSuffix("/") ? String(base.dropLast()) : base) + (config.apiPrefixes.first ?? "/oauth") + "/callback/" + name
            }
    }

    func seal(_ secrets: ConnectionSecrets, _ id: String) throws -> SealedSecrets {
        do { return try keyring.seal(secrets, rowID: id) } catch { throw RegistryError(.storeUnavailable, "cannot seal the connection's secrets") }
    }

    func open(_ record: ConnectionRecord) throws -> ConnectionSecrets {
        do { return try keyring.open(record.sealed, rowID: record.id) } catch {
            throw RegistryError(.storeUnavailable, "the secrets of \(record.name) do not open: \(error)")
        }
    }

    /// Store failures become one answer; a `RegistryError` passes through.
    func stored<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw RegistryError.of(error, otherwise: "the registry store failed") }
    }
}
