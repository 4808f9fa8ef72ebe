package import AsyncHTTPClient
import Foundation
package import Logging
package import TollgateConfiguration
package import TollgateKit
import TollgateOutbound

/// A connection as the API shows it: settings and state, never a secret.
package struct ConnectionView: Sendable {
    package let record: ConnectionRecord
    package var settings: ConnectionSettings { record.settings }
    package let hasClientSecret: Bool
    package let hasRefreshToken: Bool
    package let hasPrivateKey: Bool
    /// Authorization code only: where the IdP sends the browser back.
    package let redirectURI: String?
}

/// Seed 002's runtime connections, in three parts over one store: the `catalog` (what the API
/// creates, reads, changes and deletes), `tokens` (held, requested under a lease, refreshed,
/// tested, revoked) and `authorization` (the code flow and refresh-token import).
package final class RuntimeConnections: Sendable {
    package static let globalOrganization = "GLOBAL"
    /// Without `min_ttl`, a token is handed out only with at least this long to live.
    package static let defaultMinTTLSeconds = 30

    package let catalog: ConnectionCatalog
    package let tokens: ConnectionTokens
    package let authorization: AuthorizationFlow
    let context: RegistryContext

    package var registry: ConnectionRegistry { context.registry }
    /// Messages to the other processes sharing the store, signed with this one's name.
    package var replicaMessages: ReplicaMessages { ReplicaMessages(registry: context.registry) }

    /// `reservedNames`: the static `outbound.servers`, which win over runtime names.
    package init(
        registry: ConnectionRegistry, config: RegistryConfig, reservedNames: Set<String>, reservedPushNames: Set<String> = [],
        http: HTTPClient, clock: any TollgateClock, observer: any RegistryObserver = NoRegistryObserver(), timeoutMS: Int = 10_000,
        logger: Logger = Logger(label: "tollgate.registry")
    ) {
        context = RegistryContext(
            registry: registry, config: config, reservedNames: reservedNames, reservedPushNames: reservedPushNames, http: http, clock: clock,
            observer: observer, timeoutMS: timeoutMS, logger: logger)
        tokens = ConnectionTokens(context: context)
        catalog = ConnectionCatalog(context: context, tokens: tokens)
        authorization = AuthorizationFlow(context: context, tokens: tokens)
    }

    /// The organisation an `X-Organization-Id` names: GLOBAL when absent.
    package static func organization(header: String?) throws -> String {
        guard let header else { return globalOrganization }
        guard ConnectionRules.isIdentifier(header, allowingDots: true) else {
            throw RegistryError(.invalidRequest, "X-Organization-Id must be 1–64 of A–Z, a–z, 0–9, '.', '-' and '_'")
        }
        return header
    }
}
