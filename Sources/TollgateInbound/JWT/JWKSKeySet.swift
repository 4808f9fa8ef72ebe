import Synchronization
import TollgateConfiguration
import TollgateKit

/// Observes JWKS fetches so metrics stay outside the core.
package protocol JWKSObserver: Sendable {
    func jwksFetched(issuer: String, result: String, keys: Int, at: Double)
}

/// An issuer's signing keys: fetched from its JWKS (by a `JWKSSource`), cached for the document's Cache-Control/Expires
/// clamped to [min_refresh, max_cache], kept past a failed refresh for up to max_stale, and refetched
/// on an unknown `kid` at most once per interval — one fetch however many requests ask at once.
package final class JWKSKeySet: Sendable {
    package enum FetchResult: Sendable, Equatable {
        case loaded(Int)
        case failed(String)
    }

    private struct State {
        var keys: [VerificationKey] = []
        var loaded = false
        var freshUntil: Double = 0
        var usableUntil: Double = 0
        var lastUnknownKidFetch: Double = -.infinity
        var problem: String = "keys not loaded yet"
        var loadedAt: Double?
        var lastFailure: String?
    }

    package let issuerName: String
    private let source: any JWKSSource
    private let settings: JWKSConfig
    private let clock: any TollgateClock
    private let observer: any JWKSObserver
    private let state = Mutex(State())
    /// The one download under way (a key set has a single key: itself).
    private let downloads = SingleFlight<Int, FetchResult>()

    init(issuerName: String, source: any JWKSSource, settings: JWKSConfig, clock: any TollgateClock, observer: any JWKSObserver) {
        self.issuerName = issuerName
        self.source = source
        self.settings = settings
        self.clock = clock
        self.observer = observer
    }

    /// Nil once keys are loaded and not past max_stale; otherwise why not.
    var notReadyReason: String? {
        let now = clock.now()
        return state.withLock { $0.loaded && now < $0.usableUntil ? nil : $0.problem }
    }

    /// When the keys in use were downloaded, how many there are, and the last download's failure
    /// since (nil when the last one worked), for the console.
    package var condition: (loadedAt: Double?, keyCount: Int, lastFailure: String?) {
        state.withLock { ($0.loadedAt, $0.keys.count, $0.lastFailure) }
    }

    /// Seconds until the keys should be refreshed (0 when due now).
    package var secondsUntilRefresh: Double {
        let now = clock.now()
        return state.withLock { max(0, $0.freshUntil - now) }
    }

    /// Current keys, or nil when none are usable (never loaded, or stale beyond max_stale).
    func currentKeys() -> [VerificationKey]? {
        let now = clock.now()
        return state.withLock { $0.loaded && now < $0.usableUntil ? $0.keys : nil }
    }

    /// Fetches now, joining a fetch already under way.
    @discardableResult
    package func refresh() async -> FetchResult {
        await downloads.run(0) { await self.fetch() }.value
    }

    /// Refetch for a `kid` the keys do not have: at most once per interval, shared by all askers.
    /// Returns true when a fetch happened (or was joined), so the caller should look again.
    func refetchForUnknownKid() async -> Bool {
        if await downloads.joinRunning(0) != nil { return true }
        let now = clock.now()
        let due = state.withLock { state in
            guard now - state.lastUnknownKidFetch >= Double(settings.unknownKidRefetchIntervalSeconds) else { return false }
            state.lastUnknownKidFetch = now
            return true
        }
        guard due else { return false }
        _ = await downloads.run(0) { await self.fetch() }
        return true
    }

    private func fetch() async -> FetchResult {
        let result = await source.download()
        let now = clock.now()
        state.withLock { state in
            switch result {
            case .success((let keys, let lifetime)):
                state.keys = keys
                state.loaded = true
                state.freshUntil = now + lifetime
                state.usableUntil = now + lifetime + Double(settings.maxStaleSeconds)
                state.problem = "keys expired"
                state.loadedAt = now
                state.lastFailure = nil
            case .failure(let error):
                state.problem = error.message
                state.lastFailure = error.message
                // Keep serving the last good keys until usableUntil; retry no sooner than min_refresh.
                state.freshUntil = now + Double(min(settings.minRefreshSeconds, 30))
            }
        }
        switch result {
        case .success((let keys, _)):
            observer.jwksFetched(issuer: issuerName, result: "ok", keys: keys.count, at: now)
            return .loaded(keys.count)
        case .failure(let error):
            observer.jwksFetched(issuer: issuerName, result: "error", keys: -1, at: now)
            return .failed(error.message)
        }
    }
}
