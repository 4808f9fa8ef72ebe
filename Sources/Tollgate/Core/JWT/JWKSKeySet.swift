import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Observes JWKS fetches so metrics stay outside the core.
public protocol JWKSObserver: Sendable {
    func jwksFetched(issuer: String, result: String, keys: Int, at: Double)
}

/// An issuer's signing keys: fetched from its JWKS, cached for the document's Cache-Control/Expires
/// clamped to [min_refresh, max_cache], kept past a failed refresh for up to max_stale, and refetched
/// on an unknown `kid` at most once per interval — one fetch however many requests ask at once.
final class JWKSKeySet: Sendable {
    enum FetchResult: Sendable, Equatable {
        case loaded(Int)
        case failed(String)
    }

    private struct State {
        var uri: String?
        var keys: [VerificationKey] = []
        var loaded = false
        var freshUntil: Double = 0
        var usableUntil: Double = 0
        var lastUnknownKidFetch: Double = -.infinity
        var inflight: Task<FetchResult, Never>?
        var problem: String = "keys not loaded yet"
    }

    let issuerName: String
    private let settings: JWKSConfig
    private let allowed: [JWSAlgorithmName]
    private let http: HTTPClient
    private let timeout: TimeAmount
    private let clock: any TollgateClock
    private let observer: any JWKSObserver
    private let state: Mutex<State>

    init(issuerName: String, uri: String?, settings: JWKSConfig, allowed: [JWSAlgorithmName], http: HTTPClient,
         timeout: TimeAmount, clock: any TollgateClock, observer: any JWKSObserver) {
        self.issuerName = issuerName
        self.settings = settings
        self.allowed = allowed
        self.http = http
        self.timeout = timeout
        self.clock = clock
        self.observer = observer
        self.state = Mutex(State(uri: uri))
    }

    func setURI(_ uri: String) { state.withLock { if $0.uri == nil { $0.uri = uri } } }

    var hasURI: Bool { state.withLock { $0.uri != nil } }

    /// Nil once keys are loaded and not past max_stale; otherwise why not.
    var notReadyReason: String? {
        let now = clock.now()
        return state.withLock { $0.loaded && now < $0.usableUntil ? nil : $0.problem }
    }

    /// Seconds until the keys should be refreshed (0 when due now).
    var secondsUntilRefresh: Double {
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
    func refresh() async -> FetchResult {
        let task = state.withLock { state -> Task<FetchResult, Never> in
            if let running = state.inflight { return running }
            let task = Task { await self.fetch() }
            state.inflight = task
            return task
        }
        return await task.value
    }

    /// Refetch for a `kid` the keys do not have: at most once per interval, shared by all askers.
    /// Returns true when a fetch happened (or was joined), so the caller should look again.
    func refetchForUnknownKid() async -> Bool {
        let now = clock.now()
        let task = state.withLock { state -> Task<FetchResult, Never>? in
            if let running = state.inflight { return running }
            guard now - state.lastUnknownKidFetch >= Double(settings.unknownKidRefetchIntervalSeconds) else { return nil }
            state.lastUnknownKidFetch = now
            let task = Task { await self.fetch() }
            state.inflight = task
            return task
        }
        guard let task else { return false }
        _ = await task.value
        return true
    }

    private func fetch() async -> FetchResult {
        let result = await download()
        let now = clock.now()
        state.withLock { state in
            state.inflight = nil
            switch result {
            case .success((let keys, let lifetime)):
                state.keys = keys
                state.loaded = true
                state.freshUntil = now + lifetime
                state.usableUntil = now + lifetime + Double(settings.maxStaleSeconds)
                state.problem = "keys expired"
            case .failure(let error):
                state.problem = error.message
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

    private func download() async -> Result<([VerificationKey], Double), JWKSError> {
        guard let uri = state.withLock({ $0.uri }) else { return .failure(JWKSError("jwks_uri not known yet")) }
        var request = HTTPClientRequest(url: uri)
        request.headers.add(name: "Accept", value: "application/json, application/jwk-set+json")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: HTTPFetch.maxResponseBytes)
        } catch {
            return .failure(JWKSError("JWKS fetch failed"))
        }
        guard response.status.code == 200 else { return .failure(JWKSError("JWKS answered HTTP \(response.status.code)")) }
        guard let keys = await VerificationKey.parse(jwks: Data(buffer: body), allowed: allowed) else {
            return .failure(JWKSError("JWKS document unreadable"))
        }
        guard !keys.isEmpty else { return .failure(JWKSError("JWKS has no key usable with the allowed algorithms")) }
        return .success((keys, lifetime(cacheControl: response.headers["Cache-Control"].first, expires: response.headers["Expires"].first)))
    }

    /// Cache-Control max-age (or Expires) clamped to [min_refresh, max_cache]; min_refresh when absent.
    func lifetime(cacheControl: String?, expires: String?) -> Double {
        var seconds: Double?
        if let cacheControl {
            for directive in cacheControl.lowercased().split(separator: ",") {
                let parts = directive.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.first == "no-cache" || parts.first == "no-store" { seconds = 0 }
                if parts.first == "max-age", parts.count == 2, let value = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))) {
                    seconds = value
                }
            }
        }
        if seconds == nil, let expires, let date = HTTPDate.parse(expires) {
            seconds = date.timeIntervalSince1970 - clock.now()
        }
        let low = Double(settings.minRefreshSeconds), high = Double(settings.maxCacheSeconds)
        return min(max(seconds ?? low, low), high)
    }
}

struct JWKSError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}

enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
