import Foundation
import Logging
import Synchronization
import TollgateConfiguration
import TollgateKit

/// What the token sources report for metrics.
package protocol TokenSourceObserver: Sendable {
    func tokenFetched(server: String, result: String, seconds: Double)
    func tokenServed(server: String, fromCache: Bool)
}

/// The client-credentials token of one outbound server: held in memory, acquired by one request
/// at a time however many callers ask (single-flight), refreshed in the background well before
/// expiry so that callers never wait while a valid token exists, and served until its real
/// expiry when refreshing fails.
package final class TokenSource: Sendable {
    package let name: String
    let breaker: CircuitBreaker
    private let endpoint: TokenEndpointClient
    private let retry: RetryConfig
    private let refreshBufferSeconds: Int
    private let clock: any TollgateClock
    private let observer: any TokenSourceObserver
    private let logger: Logger
    private let state = Mutex(State())
    /// The one acquisition under way (a source has a single token: key 0).
    private let acquisitions = SingleFlight<Int, Result<AccessToken, TokenFetchError>>()

    /// A token a 401 condemned is dropped at most this often, so an upstream that rejects every
    /// token cannot turn each request into a token fetch.
    static let invalidationIntervalSeconds = 10.0

    private struct State {
        var token: AccessToken?
        var lastSuccessAt: Double?
        var lastError: TokenFetchError?
        var nextRefreshAt = 0.0
        var failuresInARow = 0
        var lastInvalidationAt = -Double.infinity
    }

    init(
        name: String, endpoint: TokenEndpointClient, retry: RetryConfig, refreshBufferSeconds: Int, breaker: CircuitBreaker,
        clock: any TollgateClock, observer: any TokenSourceObserver, logger: Logger
    ) {
        self.name = name
        self.endpoint = endpoint
        self.retry = retry
        self.refreshBufferSeconds = refreshBufferSeconds
        self.breaker = breaker
        self.clock = clock
        self.observer = observer
        var logger = logger
        logger[metadataKey: "server"] = .string(name)
        self.logger = logger
    }

    /// A valid token now if one is held; otherwise the outcome of the (shared) acquisition.
    package func token() async -> Result<AccessToken, TokenFetchError> {
        let now = clock.now()
        if let held = state.withLock({ $0.token }), held.isUsable(at: now) {
            observer.tokenServed(server: name, fromCache: true)
            return .success(held)
        }
        observer.tokenServed(server: name, fromCache: false)
        return await acquire()
    }

    /// The held token if it is usable now, without fetching one.
    package var usableToken: AccessToken? {
        let now = clock.now()
        return state.withLock { $0.token }.flatMap { $0.isUsable(at: now) ? $0 : nil }
    }

    /// A new token from the endpoint (joining an acquisition already under way).
    package func refresh() async -> Result<AccessToken, TokenFetchError> {
        await acquire()
    }

    /// Drops `rejected` if it is still the held token: an upstream refused it before its expiry
    /// (revoked, or the IdP's keys rotated). Returns whether it was dropped.
    @discardableResult
    package func invalidate(_ rejected: AccessToken) -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard state.token == rejected, now - state.lastInvalidationAt >= Self.invalidationIntervalSeconds else { return false }
            state.token = nil
            state.lastInvalidationAt = now
            state.nextRefreshAt = now
            return true
        }
    }

    /// Forgets the held token; the background refresher fetches a new one right away.
    package func clear() {
        let now = clock.now()
        state.withLock { state in
            state.token = nil
            state.nextRefreshAt = now
        }
    }

    package func secondsLeft(of token: AccessToken) -> Int { token.secondsLeft(at: clock.now()) }

    /// Seconds until the background refresher should act (≤ 0: now).
    var secondsUntilRefresh: Double {
        let now = clock.now()
        return state.withLock { $0.nextRefreshAt - now }
    }

    /// The token's state now: no token characters, ever.
    package var status: TokenSourceStatus {
        let now = clock.now()
        return state.withLock { state in
            TokenSourceStatus(
                hasToken: state.token != nil, tokenValid: state.token?.isUsable(at: now) ?? false,
                expiresInSeconds: state.token.map { $0.secondsLeft(at: now) }, lastRefresh: state.lastSuccessAt,
                lastError: state.lastError?.description, lastFailure: state.lastError?.failureClass, circuit: breaker.state
            )
        }
    }

    func cancelInFlight() {
        acquisitions.cancel(0)
    }

    private func acquire() async -> Result<AccessToken, TokenFetchError> {
        // One caller giving up never cancels what the others wait for.
        await acquisitions.run(0) { await self.fetchWithRetries() }.value
    }

    private func fetchWithRetries() async -> Result<AccessToken, TokenFetchError> {
        var attempt = 0
        while true {
            attempt += 1
            if let wait = breaker.permit() {
                return finish(.failure(.init(.circuitOpen, detail: "token endpoint circuit is open", retryAfter: wait)))
            }
            let started = ContinuousClock.now
            let result = await endpoint.fetch(now: { [clock] in clock.now() })
            let seconds = (ContinuousClock.now - started).seconds
            switch result {
            case .success:
                breaker.recordSuccess()
                observer.tokenFetched(server: name, result: "success", seconds: seconds)
                return finish(result)
            case .failure(let error):
                observer.tokenFetched(server: name, result: error.kind.rawValue, seconds: seconds)
                if error.countsAgainstEndpoint { breaker.recordFailure() } else { breaker.recordNeutral() }
                guard error.isRetryable, attempt < retry.maxAttempts, !Task.isCancelled else { return finish(result) }
                let wait = max(Backoff.delay(attempt: attempt, baseMS: retry.baseDelayMS, maxMS: retry.maxDelayMS), error.retryAfter ?? 0)
                // A Retry-After longer than we would hold a caller is left to the background refresher.
                guard wait <= Double(retry.maxDelayMS) / 1000 else { return finish(result) }
                logger.debug(
                    "token fetch failed; retrying",
                    metadata: [
                        "attempt": .stringConvertible(attempt), "retry_in_ms": .stringConvertible(Int(saturating: wait * 1000)),
                        "problem": .string(error.description),
                    ])
                try? await Task.sleep(for: .seconds(wait))
            }
        }
    }

    private func finish(_ result: Result<AccessToken, TokenFetchError>) -> Result<AccessToken, TokenFetchError> {
        let now = clock.now()
        let (stillValid, failures) = state.withLock { state -> (Bool, Int) in
            switch result {
            case .success(let token):
                state.token = token
                state.lastSuccessAt = now
                state.lastError = nil
                state.failuresInARow = 0
                state.nextRefreshAt = Self.refreshTime(for: token, bufferSeconds: refreshBufferSeconds)
            case .failure(let error):
                state.lastError = error
                state.failuresInARow += 1
                // Refused credentials will not mend in milliseconds: those wait the longest delay.
                let backoff =
                    error.isRetryable
                    ? Backoff.delay(attempt: state.failuresInARow, baseMS: retry.baseDelayMS, maxMS: retry.maxDelayMS)
                    : Double(retry.maxDelayMS) / 1000
                state.nextRefreshAt = now + max(backoff, error.retryAfter ?? 0, 0.1)
            }
            return (state.token?.isUsable(at: now) ?? false, state.failuresInARow)
        }
        switch result {
        case .success(let token):
            logger.info(
                "token acquired",
                metadata: [
                    "expires_in": .stringConvertible(Int(saturating: token.lifetime)), "expires_in_assumed": .stringConvertible(token.lifetimeAssumed),
                ])
        case .failure(let error):
            let metadata: Logger.Metadata = ["problem": .string(error.description), "failures_in_a_row": .stringConvertible(failures)]
            if stillValid {
                logger.warning("token refresh failed; serving the current token until it expires", metadata: metadata)
            } else {
                logger.error("no token available", metadata: metadata)
            }
        }
        return result
    }

    /// When to refresh: `refresh_buffer` before expiry (at most half the life, at least enough to
    /// finish before the token stops being usable), minus jitter so replicas do not fetch in step.
    static func refreshTime(for token: AccessToken, bufferSeconds: Int, jitter: Double = Double.random(in: 0...1)) -> Double {
        let life = token.lifetime
        let usableMargin = min(5, life / 10)
        let buffer = min(max(Double(bufferSeconds), usableMargin + life * 0.05), life / 2)
        return token.expiresAt - buffer - jitter * min(life * 0.1, 30)
    }
}

/// One token's state as the status API shows it: no token characters, ever.
package struct TokenSourceStatus: Sendable {
    package let hasToken: Bool
    package let tokenValid: Bool
    package let expiresInSeconds: Int?
    package let lastRefresh: Double?
    package let lastError: String?
    /// The kind of the last failure and its HTTP status, nothing the endpoint wrote.
    package let lastFailure: String?
    package let circuit: CircuitBreaker.State
}
