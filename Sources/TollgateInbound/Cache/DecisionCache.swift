import DequeModule
import Synchronization
package import TollgateKit

/// What an issuer answered for a token, before per-request policy. This is what gets cached:
/// policy (audiences, scopes, time) is re-applied on every hit, never baked into the entry.
package enum TokenStatus: Sendable {
    case active(Principal, issuer: Int)
    case rejected(DenialReason, issuer: Int?)
    case indeterminate(IndeterminateReason, issuer: Int?)
}

/// Observes cache events so metrics stay outside the cache itself.
package protocol DecisionCacheObserver: Sendable {
    func cacheHit(negative: Bool)
    func cacheMiss()
    func cacheCoalesced()
    func cacheEvicted(count: Int)
}

/// A bounded TTL map from token digest to `TokenStatus`, with single-flight loading.
///
/// Lookups take one uncontended lock on one of several shards; there is no actor hop and no
/// allocation on a hit. An entry's life is fixed when it is stored and never extended by hits.
package final class DecisionCache: Sendable {
    package struct Lifetimes: Sendable {
        package var maxTTL: Double
        package var negativeTTL: Double
        package init(maxTTL: Double, negativeTTL: Double) {
            self.maxTTL = maxTTL
            self.negativeTTL = negativeTTL
        }
    }

    /// 32 bytes: the generation sits in the status's padding.
    private struct Entry {
        var status: TokenStatus
        var generation: UInt32
        var expiresAt: Double
    }

    private struct ShardState {
        var entries: [TokenKey: Entry] = [:]
        var order: Deque<(TokenKey, UInt32)> = []
        /// When a key was evicted on purpose: a check that started before then must not cache
        /// its (possibly pre-revocation) answer. Kept for `maxTTL`.
        var evictedAt: [TokenKey: Double] = [:]
        var nextGeneration: UInt32 = 0
        var lastSweep: Double = 0
    }

    private final class Shard: Sendable {
        let state = Mutex(ShardState())
        /// Checks under way, by token.
        let checks = SingleFlight<TokenKey, TokenStatus>()
    }

    private let shards: [Shard]
    private let capacityPerShard: Int
    private let lifetimes: Lifetimes
    private let clock: any TollgateClock
    private let observer: any DecisionCacheObserver

    package init(maxEntries: Int, lifetimes: Lifetimes, clock: any TollgateClock, observer: any DecisionCacheObserver) {
        let count = Self.shardCount(maxEntries: maxEntries)
        shards = (0..<count).map { _ in Shard() }
        capacityPerShard = max(1, maxEntries / count)
        self.lifetimes = lifetimes
        self.clock = clock
        self.observer = observer
    }

    /// The cached status, or nil on a miss. Counts the hit (unless `counting` is false: the caller
    /// counts it with `countHit` once it uses the entry); a miss is counted by `load`.
    package func lookup(_ key: TokenKey, counting: Bool = true) -> TokenStatus? {
        let found = cached(key, in: shard(for: key), now: clock.now())
        if counting, let found { countHit(found) }
        return found
    }

    package func countHit(_ status: TokenStatus) {
        if case .active = status { observer.cacheHit(negative: false) } else { observer.cacheHit(negative: true) }
    }

    /// How long a refusal is cached.
    package var negativeTTL: Double { lifetimes.negativeTTL }

    /// How much longer the entry for `key` will be served from the cache (0 when none is).
    package func secondsLeft(_ key: TokenKey) -> Double {
        let now = clock.now()
        return shard(for: key).state.withLock { state in
            state.entries[key].map { max(0, $0.expiresAt - now) } ?? 0
        }
    }

    /// Returns the cached status or runs `loader` — at most once at a time per key, however many
    /// callers miss together — and stores its answer for as long as the rules allow.
    package func load(_ key: TokenKey, loader: @escaping @Sendable () async -> TokenStatus) async -> TokenStatus {
        if let status = lookup(key) { return status }
        let shard = shard(for: key)
        let now = clock.now()
        let (status, joined) = await shard.checks.run(key) { [self] in
            // A check that ended between the look above and this run has stored its answer.
            if let status = cached(key, in: shard, now: clock.now()) { return status }
            let status = await loader()
            store(status, for: key, in: shard, checkedSince: now)
            return status
        }
        if joined { observer.cacheCoalesced() } else { observer.cacheMiss() }
        return status
    }

    private func cached(_ key: TokenKey, in shard: Shard, now: Double) -> TokenStatus? {
        shard.state.withLock { state in
            guard let entry = state.entries[key], entry.expiresAt > now else { return nil }
            return entry.status
        }
    }

    /// Forgets one token's decision (a revocation pushed by an operator, here or on another
    /// replica); a check already running for it will not cache its answer. `false` when nothing
    /// was cached.
    @discardableResult
    package func remove(_ key: TokenKey) -> Bool {
        let now = clock.now()
        let shard = shard(for: key)
        let removed = shard.state.withLock { state in
            state.evictedAt[key] = now
            return state.entries.removeValue(forKey: key) != nil
        }
        shard.checks.forget(key)
        return removed
    }

    /// Drops every entry (the admin API's flush).
    package func removeAll() {
        for shard in shards {
            shard.state.withLock {
                $0.entries.removeAll(); $0.order.removeAll()
            }
        }
    }

    package var count: Int {
        shards.reduce(0) { total, shard in total + shard.state.withLock { $0.entries.count } }
    }

    /// When an answer obtained now may be reused until; nil means "do not cache".
    func expiry(of status: TokenStatus, now: Double) -> Double? {
        switch status {
        case .active(let principal, _):
            var until = now + lifetimes.maxTTL
            if let exp = principal.claims.expiresAt { until = min(until, Double(exp)) }
            return until > now ? until : nil
        case .rejected:
            return lifetimes.negativeTTL > 0 ? now + lifetimes.negativeTTL : nil
        case .indeterminate:
            return nil
        }
    }

    private func store(_ status: TokenStatus, for key: TokenKey, in shard: Shard, checkedSince: Double) {
        let now = clock.now()
        let expiresAt = expiry(of: status, now: now)
        let evicted = shard.state.withLock { state -> Int in
            if let evicted = state.evictedAt[key], evicted >= checkedSince { return 0 }
            guard let expiresAt else { return 0 }
            var evicted = 0
            if state.entries[key] == nil && state.entries.count >= capacityPerShard {
                evicted = makeRoom(in: &state, now: now)
            } else if now - state.lastSweep >= Self.sweepIntervalSeconds {
                // Expired entries go within seconds, not only when the cache is full: memory follows
                // the live decisions (a stream of one-off tokens would otherwise grow to max_entries).
                sweepExpired(in: &state, now: now)
            }
            state.nextGeneration &+= 1
            state.entries[key] = Entry(status: status, generation: state.nextGeneration, expiresAt: expiresAt)
            state.order.append((key, state.nextGeneration))
            if state.order.count > 2 * capacityPerShard + 64 { compactOrder(&state) }
            return evicted
        }
        if evicted > 0 { observer.cacheEvicted(count: evicted) }
    }

    static let sweepIntervalSeconds = 5.0

    /// Drops every expired entry of a shard; returns how many.
    @discardableResult
    private func sweepExpired(in state: inout ShardState, now: Double) -> Int {
        state.lastSweep = now
        let before = state.entries.count
        state.entries = state.entries.filter { $0.value.expiresAt > now }
        if !state.evictedAt.isEmpty { state.evictedAt = state.evictedAt.filter { now - $0.value <= lifetimes.maxTTL } }
        let freed = before - state.entries.count
        if freed > 0 { compactOrder(&state) }
        return freed
    }

    /// Frees at least one slot: expired entries first (at most one sweep a second), else the oldest.
    private func makeRoom(in state: inout ShardState, now: Double) -> Int {
        var freed = 0
        if now - state.lastSweep >= 1 { freed = sweepExpired(in: &state, now: now) }
        while state.entries.count >= capacityPerShard, let (oldest, generation) = state.order.popFirst() {
            if state.entries[oldest]?.generation == generation {
                state.entries[oldest] = nil
                freed += 1
            }
        }
        return freed
    }

    private func compactOrder(_ state: inout ShardState) {
        let entries = state.entries
        state.order = Deque(state.order.filter { entries[$0.0]?.generation == $0.1 })
    }

    private func shard(for key: TokenKey) -> Shard {
        shards[Int(key.a % UInt64(shards.count))]
    }

    /// Shards only for large caches, so a small max_entries is still honoured exactly. Between 8
    /// and 32 shards, the count whose tables are fullest when the cache is: a Swift dictionary
    /// keeps at most 3/4 of a power-of-two table, so 100,000 entries in 16 shards of 6,250 would
    /// take 16,384 buckets each, and in 17 shards of 5,882 take 8,192.
    static func shardCount(maxEntries: Int) -> Int {
        guard maxEntries >= 8 * 1024 else { return 1 }
        func buckets(_ count: Int) -> Int {
            let perShard = maxEntries / count
            var table = 1
            while table * 3 / 4 < perShard { table *= 2 }
            return table * count
        }
        return (8...32).min { buckets($0) < buckets($1) }!
    }
}
