import Foundation
import TollgateKit
package import TollgateOutbound

/// A live access token for a caller (the credentials endpoint).
package struct ConnectionCredentials: Sendable {
    package let accessToken: String
    /// When the token was issued (as far as Tollgate knows).
    package let obtainedAt: Double
    package let expiresAt: Double
    /// Whole seconds left when it was handed out.
    package let expiresIn: Int
    package let scope: String?
}

/// Token requests: one per connection however many callers ask, each result sealed into the
/// store so a restart keeps it. Refresh tokens follow golang.org/x/oauth2: an answer without a
/// new refresh token keeps the old one. On `invalid_grant` the row is read again before anything
/// is concluded, because another writer may already have rotated the token.
package struct ConnectionTokens: RegistryPart {
    let context: RegistryContext
    /// One token request per connection id at a time, whoever asks (callers, the refresher).
    let flights = SingleFlight<String, Result<ConnectionCredentials, RegistryError>>()

    /// A token with at least `minTTL` seconds to live: the held one, else one requested now.
    /// `force` requests a new one regardless (the test route).
    package func credentials(
        organization: String, name: String, minTTL: Int = RuntimeConnections.defaultMinTTLSeconds,
        force: Bool = false
    ) async throws -> ConnectionCredentials {
        let record = try await resolve(organization: organization, name: name)
        do {
            return try await credentials(for: record, minTTL: minTTL, force: force)
        } catch let error as RegistryError where error.code.meansNoUsableToken {
            let now = (try? await store.find(id: record.id)) ?? record
            throw error.with(status: now.status, message: now.statusMessage)
        }
    }

    private func credentials(for record: ConnectionRecord, minTTL: Int, force: Bool) async throws -> ConnectionCredentials {
        if !force, let held = try usable(record, minTTL: minTTL) { return held }
        return try await renew(record, minTTL: force ? nil : minTTL)
    }

    /// What `/proxy/{name}` needs first, from one read of the row: the connection's `url` and its token.
    package func proxyTarget(organization: String, name: String) async throws -> (url: String, token: AccessToken) {
        let record = try await resolve(organization: organization, name: name)
        let url = try ConnectionCatalog.url(of: record)
        return (url, Self.accessToken(try await credentials(for: record, minTTL: RuntimeConnections.defaultMinTTLSeconds, force: false)))
    }

    /// The token `/proxy/{name}` sends: the held one, or after a peer refused `refused` (401), a new one.
    package func accessToken(
        organization: String, name: String, refused: AccessToken?,
        minTTL: Int = RuntimeConnections.defaultMinTTLSeconds
    ) async throws -> AccessToken {
        Self.accessToken(try await credentials(organization: organization, name: name, minTTL: minTTL, force: refused != nil))
    }

    private static func accessToken(_ held: ConnectionCredentials) -> AccessToken {
        AccessToken(value: held.accessToken, obtainedAt: held.obtainedAt, expiresAt: held.expiresAt, lifetimeAssumed: false, scope: held.scope)
    }

    /// Joins the connection's running token request, or starts one. `minTTL` nil: a new token
    /// whatever is held; otherwise a token stored meanwhile with that long to live is served.
    func renew(_ record: ConnectionRecord, minTTL: Int?) async throws -> ConnectionCredentials {
        try await flights.run(record.id) { await self.obtain(record, minTTL: minTTL) }.value.get()
    }

    /// `first` is the row as the caller read it; `leased` reads it again under the lease, which is
    /// where a token stored meanwhile (here or by another replica) is found.
    private func obtain(_ first: ConnectionRecord, minTTL: Int?) async -> Result<ConnectionCredentials, RegistryError> {
        do {
            if let minTTL, let held = try usable(first, minTTL: minTTL) { return .success(held) }
            return .success(
                try await leased(first) { record in
                    // Another replica may have finished a refresh between the first read and the lease.
                    if Self.refreshed(record, since: first), let held = try self.usable(record, minTTL: minTTL ?? 1) { return held }
                    return try await self.request(for: record, retryingLostRace: true)
                })
        } catch let error as RegistryError {
            return .failure(error)
        } catch {
            return .failure(RegistryError(.storeUnavailable, "the registry store failed"))
        }
    }

    /// Runs `body` on the freshly read row while holding the connection's lease, renewed every
    /// third of its life while the IdP call runs. When another process holds it, waits for that
    /// one's result (the row's generation moves) or for its lease to lapse.
    private func leased(
        _ record: ConnectionRecord, _ body: @escaping @Sendable (ConnectionRecord) async throws -> ConnectionCredentials
    )
        async throws -> ConnectionCredentials
    {
        let seconds = Double(config.leaseSeconds)
        let deadline = clock.now() + seconds + Double(timeoutMS) / 1000 + 5
        // Taking the lease and renewing it are the same claim.
        let claim: @Sendable () async throws -> Bool = {
            try await self.stored {
                try await self.store.acquireLease(
                    id: record.id, owner: self.leaseOwner, until: self.clock.now() + seconds,
                    now: self.clock.now())
            }
        }
        while true {
            if try await claim() {
                let renewal = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(seconds / 3))
                        if Task.isCancelled { break }
                        _ = try? await claim()
                    }
                }
                let result: Result<ConnectionCredentials, any Error>
                do {
                    guard let current = try await stored({ try await self.store.find(id: record.id) }) else {
                        throw RegistryError(.notFound, "\(record.name) was deleted")
                    }
                    result = .success(try await body(current))
                } catch {
                    result = .failure(error)
                }
                renewal.cancel()
                try? await store.releaseLease(id: record.id, owner: leaseOwner)
                return try result.get()
            }
            // Another replica is refreshing: its result lands in the row.
            try await Task.sleep(for: .milliseconds(100))
            guard let reread = try await stored({ try await self.store.find(id: record.id) }) else {
                throw RegistryError(.notFound, "\(record.name) was deleted")
            }
            if Self.refreshed(reread, since: record), let held = try usable(reread, minTTL: 1) { return held }
            guard clock.now() < deadline else {
                throw RegistryError(.tokenUnavailable, "another replica holds \(record.name)'s refresh and has not finished")
            }
        }
    }

    /// One token request for `record`'s flow, its result stored.
    private func request(for record: ConnectionRecord, retryingLostRace: Bool) async throws -> ConnectionCredentials {
        let secrets = try open(record)
        let grant: TokenGrant
        switch record.flow {
        case .clientCredentials:
            grant = .clientCredentials
        case .refreshToken, .authorizationCode:
            guard let refreshToken = secrets.refreshToken else {
                if record.status == .failed {
                    throw RegistryError(.reauthorizationRequired, "\(record.name) needs a new authorization or refresh token")
                }
                throw RegistryError(
                    .notConnected,
                    record.flow == .authorizationCode
                        ? "\(record.name) is not authorized yet: POST /oauth/connections/\(record.name)/authorize"
                        : "\(record.name) has no refresh token yet: POST /oauth/connections/\(record.name)/refresh-token")
            }
            grant = .refreshToken(refreshToken)
        }
        switch await tokenRequest(record, secrets, grant) {
        case .success(let token):
            return try await keep(token, for: record, using: secrets)
        case .failure(let error) where error.refusesGrant && secrets.refreshToken != nil:
            return try await refreshRefused(record, usedToken: secrets.refreshToken, retryingLostRace: retryingLostRace)
        case .failure(let error):
            let message = PrintableText.clean(error.description, limit: 256)
            try await markFailed(record, message: message, dropRefreshToken: false)
            throw RegistryError(.tokenUnavailable, "no token for \(record.name): \(message)")
        }
    }

    /// The token request itself, with the connection's client credentials.
    func tokenRequest(_ record: ConnectionRecord, _ secrets: ConnectionSecrets, _ grant: TokenGrant) async -> Result<AccessToken, TokenFetchError> {
        let settings = record.settings
        guard let authentication = Self.clientAuthentication(settings, secrets) else {
            return .failure(TokenFetchError(.credentials, detail: "no client credential"))
        }
        let request = RuntimeTokenRequest(
            tokenEndpoint: settings.tokenURL, authentication: authentication,
            grant: grant, scope: settings.scopes.isEmpty ? nil : settings.scopes, resource: settings.resource, timeoutMS: timeoutMS, http: http)
        let clock = self.clock
        let result = await request.fetch(now: { clock.now() })
        observer.tokenRequested(grant: grant.label, result: result.outcomeLabel)
        return result
    }

    /// How the connection's client authenticates, with its opened credential; nil when the
    /// credential its method needs is not held.
    static func clientAuthentication(_ settings: ConnectionSettings, _ secrets: ConnectionSecrets) -> RuntimeClientAuthentication? {
        switch settings.authMethod {
        case .clientSecretBasic, .clientSecretPost:
            guard let secret = secrets.clientSecret else { return nil }
            return .secret(
                ClientCredentials(
                    clientID: settings.clientID, secret: Secret(secret),
                    method: settings.authMethod == .clientSecretPost ? .clientSecretPost : .clientSecretBasic))
        case .none:
            return .publicClient(clientID: settings.clientID)
        case .privateKeyJWT:
            guard let key = secrets.privateKey else { return nil }
            return .privateKeyJWT(clientID: settings.clientID, pem: Secret(key), keyID: settings.keyID)
        }
    }

    /// Stores `token` on the connection (compare-and-swap), unless the connection's credentials
    /// changed meanwhile: the caller still gets the token, which is valid either way.
    func keep(_ token: AccessToken, for first: ConnectionRecord, using used: ConnectionSecrets) async throws -> ConnectionCredentials {
        // A rotated refresh token that is not stored kills the grant (the old one is spent), so
        // writes that change only the status (`testing` from many callers) are retried through.
        _ = try await mutate(first, retryOver: { self.holdsSameCredentials($0, as: first, used) }) { row in
            // `used` were opened from `first`: only a row another writer moved on is opened again.
            var secrets = row.generation == first.generation ? used : try self.open(row)
            secrets.accessToken = token.value
            secrets.tokenScope = token.scope ?? row.settings.requestedScope
            if let rotated = token.refreshToken { secrets.refreshToken = rotated }
            row.sealed = try self.seal(secrets, row.id)
            row.expiresAt = token.expiresAt
            row.lastRefreshAt = token.obtainedAt
            row.status = .completed
            row.statusMessage = nil
        }
        return ConnectionCredentials(
            accessToken: token.value, obtainedAt: token.obtainedAt, expiresAt: token.expiresAt,
            expiresIn: token.secondsLeft(at: clock.now()),
            scope: token.scope ?? first.settings.requestedScope)
    }

    /// `invalid_grant` for a refresh: a lost race if another writer moved the row on (serve its
    /// token, or try its newer refresh token once), else the grant is dead.
    private func refreshRefused(_ record: ConnectionRecord, usedToken: String?, retryingLostRace: Bool) async throws -> ConnectionCredentials {
        if let reread = try await stored({ try await self.store.find(id: record.id) }), reread.generation != record.generation {
            if Self.refreshed(reread, since: record), let held = try usable(reread, minTTL: 1) { return held }
            if retryingLostRace, let newer = try open(reread).refreshToken, newer != usedToken {
                return try await request(for: reread, retryingLostRace: false)
            }
        }
        let marked = try await markFailed(
            record, message: "REAUTHORIZATION_REQUIRED: the IdP refused the refresh token (invalid_grant)",
            dropRefreshToken: true)
        if !marked, let reread = try await stored({ try await self.store.find(id: record.id) }), let held = try usable(reread, minTTL: 1) {
            return held
        }
        throw RegistryError(.reauthorizationRequired, "the IdP refused \(record.name)'s refresh token: authorize again or import a new one")
    }

    /// Whether `after` holds a token obtained after `before` was read: another process's refresh
    /// finished. Not the generation, which status writes (`testing`) move too.
    static func refreshed(_ after: ConnectionRecord, since before: ConnectionRecord) -> Bool {
        after.lastRefreshAt != before.lastRefreshAt
    }

    /// Marks the connection failed; a dead refresh token is dropped so that callers get
    /// `REAUTHORIZATION_REQUIRED` without another IdP call. `false` when another writer got
    /// there first with something newer (a refresh, new credentials), which stays; a status
    /// write alone (`testing`) does not count, and the failure is written over it.
    @discardableResult
    func markFailed(_ record: ConnectionRecord, message: String, dropRefreshToken: Bool) async throws -> Bool {
        let used = try open(record)
        let outcome = try? await mutate(record, retryOver: { !Self.refreshed($0, since: record) && self.holdsSameCredentials($0, as: record, used) }) {
            row in
            if dropRefreshToken { try self.replaceTokens(in: &row, refreshToken: nil) }
            row.status = .failed
            row.statusMessage = message
        }
        return outcome?.written != nil
    }

    func usable(_ record: ConnectionRecord, minTTL: Int) throws -> ConnectionCredentials? {
        guard let expiresAt = record.expiresAt, expiresAt - clock.now() >= Double(max(minTTL, 1)) else { return nil }
        let secrets = try open(record)
        guard let token = secrets.accessToken else { return nil }
        return ConnectionCredentials(
            accessToken: token, obtainedAt: record.lastRefreshAt ?? record.updatedAt, expiresAt: expiresAt,
            expiresIn: max(0, Int(saturating: expiresAt - clock.now())),
            scope: secrets.tokenScope)
    }
}

extension TokenFetchError {
    /// The grant itself was refused: `invalid_grant`, or a bare 400 without an error code, which
    /// is how Glewlwyd 2.7.5 answers a refresh token that was already used.
    var refusesGrant: Bool {
        oauthError == "invalid_grant" || (kind == .clientError && status == 400 && oauthError == nil)
    }
}

extension TokenGrant {
    var label: String {
        switch self {
        case .clientCredentials: "client_credentials"
        case .refreshToken: "refresh_token"
        case .authorizationCode: "authorization_code"
        }
    }
}

extension Result where Success == AccessToken, Failure == TokenFetchError {
    /// `success`, `invalid_grant`, or the failure's kind: a metric label.
    var outcomeLabel: String {
        switch self {
        case .success: "success"
        case .failure(let error) where error.refusesGrant: "invalid_grant"
        case .failure(let error): error.kind.rawValue
        }
    }
}
