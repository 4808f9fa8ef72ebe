import Foundation

/// The flows seed 002 names: how a connection gets its tokens.
public enum ConnectionFlow: String, Sendable, CaseIterable, Codable {
    case clientCredentials = "client_credentials"
    case refreshToken = "refresh_token"
    case authorizationCode = "authorization_code"
}

/// Seed 002's connection states.
public enum ConnectionStatus: String, Sendable, CaseIterable, Codable {
    case notConnected = "not_connected"
    case waitingCallback = "waiting_callback"
    case testing
    case completed
    case failed
}

/// One runtime OAuth connection as every store keeps it. Secrets and tokens are only ever here
/// sealed (`SealedSecrets`): a store never sees them in the clear, and neither does its file.
public struct ConnectionRecord: Sendable, Equatable {
    /// Random, unique; the associated data of the row's ciphertexts, so a sealed blob moved to
    /// another row does not open.
    public let id: String
    /// `X-Organization-Id`, or `GLOBAL`.
    public var organization: String
    public var name: String
    public var flow: ConnectionFlow
    /// The non-secret settings (client id, token URL, scopes, …) as JSON.
    public var settings: Data
    public var status: ConnectionStatus
    public var statusMessage: String?
    /// Bumped by every write; a write names the generation it read (compare-and-swap).
    public var generation: Int
    public var sealed: SealedSecrets
    /// Unix seconds; nil before the first token.
    public var expiresAt: Double?
    public var lastRefreshAt: Double?
    /// When `/test` last asked for a token (seed 002's `last_test_at`).
    public var lastTestAt: Double?
    public var createdAt: Double
    /// Seed 002's `created_by`: the caller's `X-User-Id` (cleaned) or the admin identity.
    public var createdBy: String?
    public var updatedAt: Double

    public init(id: String, organization: String, name: String, flow: ConnectionFlow, settings: Data, status: ConnectionStatus,
                statusMessage: String? = nil, generation: Int = 1, sealed: SealedSecrets, expiresAt: Double? = nil,
                lastRefreshAt: Double? = nil, lastTestAt: Double? = nil, createdAt: Double, createdBy: String? = nil, updatedAt: Double) {
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
public struct ConnectionDependency: Sendable, Equatable {
    public let dependentID: String
    public let dependentName: String
    public let createdAt: Double

    public init(dependentID: String, dependentName: String, createdAt: Double) {
        self.dependentID = dependentID
        self.dependentName = dependentName
        self.createdAt = createdAt
    }
}
