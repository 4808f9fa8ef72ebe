import Crypto
import Foundation
import Synchronization
package import TollgateConfiguration
package import TollgateKit

/// Server-provided DPoP nonces (RFC 9449 §9): a nonce is the base64url HMAC-SHA256 of the current
/// time window under a key, so any replica holding the same key issues and accepts the same
/// nonces without sharing state. A nonce is accepted during its own window and the next one.
package final class DPoPNonces: Sendable {
    private let key: SymmetricKey
    private let lifetime: Double
    private let clock: any TollgateClock
    /// The last window's nonce, computed once per window rather than per request.
    private let latest = Mutex<(window: Int64, nonce: String)?>(nil)

    /// `keyFile`: at least 32 bytes, the same on every replica; without it a key of this process's own.
    package init(keyFile: String?, lifetimeSeconds: Int, clock: any TollgateClock) throws(ConfigErrors) {
        if let keyFile {
            guard let data = FileManager.default.contents(atPath: keyFile), data.count >= 32 else {
                throw ConfigErrors(errors: [ConfigError(path: "inbound.dpop.nonce_key_file", message: "needs a readable file of at least 32 bytes")])
            }
            key = SymmetricKey(data: data)
        } else {
            key = SymmetricKey(size: .bits256)
        }
        lifetime = Double(lifetimeSeconds)
        self.clock = clock
    }

    /// The nonce to hand a client now.
    package func current() -> String {
        nonce(for: window(at: clock.now()))
    }

    /// Whether `nonce` was issued by a replica with this key in this window or the one before.
    package func accepts(_ nonce: String) -> Bool {
        guard nonce.utf8.count == 43, let code = Base64URL.decode(nonce) else { return false }
        let now = window(at: clock.now())
        return [now, now - 1].contains { HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Self.input(for: $0), using: key) }
    }

    private func window(at time: Double) -> Int64 {
        Int64(min(max(0, time) / lifetime, 1e15).rounded(.down))
    }

    private func nonce(for window: Int64) -> String {
        if let cached = latest.withLock({ $0 }), cached.window == window { return cached.nonce }
        let nonce = Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Self.input(for: window), using: key)))
        latest.withLock { cached in
            if (cached?.window ?? .min) < window { cached = (window, nonce) }
        }
        return nonce
    }

    private static func input(for window: Int64) -> [UInt8] {
        var input = Array("tollgate dpop nonce ".utf8)
        withUnsafeBytes(of: window.bigEndian) { input.append(contentsOf: $0) }
        return input
    }
}
