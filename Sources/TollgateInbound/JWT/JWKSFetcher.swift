import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import TollgateConfiguration
import TollgateKit

/// Where a key set's keys come from, and for how long they may be cached.
protocol JWKSSource: Sendable {
    func download() async -> Result<([VerificationKey], Double), JWKSError>
}

/// Downloads an issuer's JWKS from its `jwks_uri` (configured, or learnt by discovery) — never from
/// a URL a token names. The cache lifetime is Cache-Control max-age (or Expires) clamped to
/// [min_refresh, max_cache].
package final class JWKSFetcher: JWKSSource {
    private let uri: Mutex<String?>
    private let settings: JWKSConfig
    private let allowed: [JWSAlgorithmName]
    private let http: HTTPClient
    private let timeout: TimeAmount
    private let clock: any TollgateClock

    init(uri: String?, settings: JWKSConfig, allowed: [JWSAlgorithmName], http: HTTPClient, timeout: TimeAmount, clock: any TollgateClock) {
        self.uri = Mutex(uri)
        self.settings = settings
        self.allowed = allowed
        self.http = http
        self.timeout = timeout
        self.clock = clock
    }

    func setURI(_ discovered: String) { uri.withLock { if $0 == nil { $0 = discovered } } }

    var hasURI: Bool { uri.withLock { $0 != nil } }

    func download() async -> Result<([VerificationKey], Double), JWKSError> {
        guard let uri = uri.withLock({ $0 }) else { return .failure(JWKSError("jwks_uri not known yet")) }
        var request = HTTPClientRequest(url: uri)
        request.headers.add(name: "Accept", value: "application/json, application/jwk-set+json")
        let response: FetchedResponse
        switch await HTTPFetch.send(request, client: http, timeout: timeout, call: "jwks") {
        case .success(let answer): response = answer
        case .failure: return .failure(JWKSError("JWKS fetch failed"))
        }
        guard response.status == 200 else { return .failure(JWKSError("JWKS answered HTTP \(response.status)")) }
        guard let keys = await VerificationKey.parse(jwks: Data(response.body.readableBytesView), allowed: allowed) else {
            return .failure(JWKSError("JWKS document unreadable"))
        }
        guard !keys.isEmpty else { return .failure(JWKSError("JWKS has no key usable with the allowed algorithms")) }
        return .success((keys, lifetime(cacheControl: response.headers["Cache-Control"].first, expires: response.headers["Expires"].first)))
    }

    /// Cache-Control max-age (or Expires) clamped to [min_refresh, max_cache]; min_refresh when absent.
    /// Only RFC 9111 delta-seconds count: `max-age=NaN`, `inf` or `-5` are no value (they once made
    /// the refresher fetch in a loop).
    package func lifetime(cacheControl: String?, expires: String?) -> Double {
        var seconds: Double?
        if let cacheControl {
            for directive in cacheControl.lowercased().split(separator: ",") {
                let parts = ASCIIText.trimmingOWS(directive).split(separator: "=", maxSplits: 1)
                if parts.first == "no-cache" || parts.first == "no-store" { seconds = 0 }
                if parts.first == "max-age", parts.count == 2, let value = DeltaSeconds.parse(Self.unquoted(parts[1])) {
                    seconds = value
                }
            }
        }
        if seconds == nil, let expires, let date = HTTPDate.parse(expires) {
            seconds = date.timeIntervalSince1970 - clock.now()
        }
        let low = Double(settings.minRefreshSeconds), high = Double(settings.maxCacheSeconds)
        guard let seconds, seconds.isFinite else { return low }
        return min(max(seconds, low), high)
    }

    private static func unquoted(_ value: Substring) -> Substring {
        var value = ASCIIText.trimmingOWS(value)
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
        return value
    }
}

struct JWKSError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}
