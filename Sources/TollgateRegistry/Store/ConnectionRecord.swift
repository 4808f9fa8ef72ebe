import Foundation

/// The flows seed 002 names: how a connection gets its tokens.
package enum ConnectionFlow: String, Sendable, CaseIterable, Codable {
    case clientCredentials = "client_credentials"
    case refreshToken = "refresh_token"
    case authorizationCode = "authorization_code"
}

/// Seed 002's connection states.
package enum ConnectionStatus: String, Sendable, CaseIterable, Codable {
    case notConnected = "not_connected"
    case waitingCallback = "waiting_callback"
    case testing
    case completed
    case failed
}

/// One runtime OAuth connection as every store keeps it. Secrets and tokens are only ever here
/// sealed (`SealedSecrets`): a store never sees them in the clear, and neither does its file.
package struct ConnectionRecord: Sendable, Equatable {
    /// Random, unique; the associated data of the row's ciphertexts, so a sealed blob moved to
    /// another row does not open.
    package let id: String
    /// `X-Organization-Id`, or `GLOBAL`.
    package var organization: String
    package var name: String
    package var flow: ConnectionFlow
    /// The non-secret settings (client id, token URL, scopes, …); a store keeps them as JSON.
    package var settings: ConnectionSettings
    package var status: ConnectionStatus
    package var statusMessage: String?
    /// Bumped by every write; a write names the generation it read (compare-and-swap).
    package var generation: Int
    package var sealed: SealedSecrets
    /// Unix seconds; nil before the first token.
    package var expiresAt: Double?
    package var lastRefreshAt: Double?
    /// When `/test` last asked for a token (seed 002's `last_test_at`).
    package var lastTestAt: Double?
    package var createdAt: Double
    /// Seed 002's `created_by`: the caller's `X-User-Id` (cleaned) or the admin identity.
    package var createdBy: String?
    package var updatedAt: Double

    package init(
        id: String, organization: String, name: String, flow: ConnectionFlow, settings: ConnectionSettings, status: ConnectionStatus,
        statusMessage: String? = nil, generation: Int = 1, sealed: SealedSecrets, expiresAt: Double? = nil,
        lastRefreshAt: Double? = nil, lastTestAt: Double? = nil, createdAt: Double, createdBy: String? = nil, updatedAt: Double
    ) {
        self.id = id
        self.organization = organization
        self.name = name
        self.flow = flow
        self.settings = settings
        self.status = status
        self.statusMessage = statusMessage
        self.generation = generation
        self.sealed = sealed
        self.expiresAt = expiresAt
        self.lastRefreshAt = lastRefreshAt
        self.lastTestAt = lastTestAt
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.updatedAt = updatedAt
    }
}

/// Who uses a connection (seed 002's dependency registration).
package struct ConnectionDependency: Sendable, Equatable {
    package let dependentID: String
    package let dependentName: String
    package let createdAt: Double

    package init(dependentID: String, dependentName: String, createdAt: Double) {
        self.dependentID = dependentID
        self.dependentName = dependentName
        self.createdAt = createdAt
    }
}
