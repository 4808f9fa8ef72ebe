/// Every write to a connection's row is a compare-and-swap on the generation it read, and goes
/// through `mutate`, so a lost race and a store failure mean the same everywhere: a store failure
/// throws a `RegistryError` (a caller writing best-effort says so with `try?`), and a lost race is
/// `.lost` with the row as it now is, for the caller to decide what that means.
/// The outcome of a compare-and-swap write.
enum RowMutation {
    /// The row as written (its generation moved on by one).
    case written(ConnectionRecord)
    /// Another writer got there first: the row as it now is, nil when it was deleted.
    case lost(current: ConnectionRecord?)

    var written: ConnectionRecord? {
        if case .written(let row) = self { row } else { nil }
    }

    /// How often a write is tried again over writes its caller does not mind (a status change).
    static let rewriteAttempts = 32
}

extension RegistryPart {
    /// `change` applied to `record` and written if the row is still at `record.generation`. When
    /// another writer got there first and `retryOver` accepts the row as it now is, `change` is
    /// applied to that row and written again, at most `rewriteAttempts` times in all.
    func mutate(
        _ record: ConnectionRecord, retryOver: (ConnectionRecord) -> Bool = { _ in false }, _ change: (inout ConnectionRecord) throws -> Void
    ) async throws -> RowMutation {
        var current = record
        for _ in 0..<RowMutation.rewriteAttempts {
            var next = current
            try change(&next)
            next.updatedAt = clock.now()
            let written = next, generation = current.generation
            if try await stored({ try await self.store.update(written, from: generation) }) {
                next.generation = generation + 1
                return .written(next)
            }
            let now = try await stored { try await self.store.find(id: record.id) }
            guard let now, retryOver(now) else { return .lost(current: now) }
            current = now
        }
        return .lost(current: current)
    }

    /// `row` holding `refreshToken` (nil: none) and no access token: what an import or a dead
    /// grant leaves.
    func replaceTokens(in row: inout ConnectionRecord, refreshToken: String?) throws {
        var secrets = try open(row)
        secrets.refreshToken = refreshToken
        secrets.forgetAccessToken()
        row.sealed = try seal(secrets, row.id)
        row.expiresAt = nil
    }

    /// Whether `row` still sends the same credential to the same place as when `secrets` were
    /// opened from `before`: a write made for those may land over it.
    func holdsSameCredentials(_ row: ConnectionRecord, as before: ConnectionRecord, _ secrets: ConnectionSecrets) -> Bool {
        guard row.settings.tokenSource == before.settings.tokenSource, let now = try? open(row) else { return false }
        return now.clientSecret == secrets.clientSecret && now.privateKey == secrets.privateKey && now.refreshToken == secrets.refreshToken
    }
}
