package import Foundation
package import TollgateKit

/// `registry:` — OAuth connections created at run time (seed 002), kept in a store and sealed
/// at rest under `encryption.keys`.
package struct RegistryConfig: Sendable, Decodable {
    package enum Store: String, ConfigEnum {
        /// One file, one Tollgate process; the library is built in.
        case sqlite
        /// This process only, gone on restart: for tests and trials.
        case memory
        /// Shared by every replica: refreshes are leased across them.
        case postgres
    }

    package var enabled = false
    package var store: Store = .sqlite
    package var sqlite = SQLiteStoreConfig()
    package var postgres = PostgresStoreConfig()
    /// How long a replica's claim on a connection's refresh lasts without renewal (renewed while
    /// the IdP call runs; a replica that dies loses it after this long).
    package var leaseSeconds = 30
    package var encryption = RegistryEncryptionConfig()
    /// Where the IdP sends the browser back: `{callback_base_url}/oauth/callback/{name}` is the
    /// redirect URI of authorization-code connections that do not name their own.
    package var callbackBaseURL: String?
    /// How long an authorization request's state (and its PKCE verifier) may wait for the callback.
    package var authorizationTTLSeconds = 600
    package var refresh = RegistryRefreshConfig()
    /// Where the connection API is served: today's `/oauth` and seed 002's `/api/oauth` (its
    /// client's paths), each with every route. The first is the default callback's.
    package var apiPrefixes = ["/oauth", "/api/oauth"]
    /// Seed 002 hands refresh tokens out with the credentials; off, because whoever can read the
    /// credentials endpoint would then hold a long-lived grant instead of a token that expires.
    package var exposeRefreshTokens = false

    /// First path segments Tollgate's other routes use: a prefix there would shadow them.
    package static let reservedPrefixSegments: Set<String> = [
        "admin", "auth", "dicomweb-oauth", "health", "metrics", "orthanc", "plugin",
        "proxy", "ready", "settings", "token", "tokens", "user", "dev-issuer",
    ]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, store, sqlite, postgres, encryption, refresh
        case apiPrefixes = "api_prefixes"
        case exposeRefreshTokens = "expose_refresh_tokens"
        case leaseSeconds = "lease_seconds"
        case callbackBaseURL = "callback_base_url"
        case authorizationTTLSeconds = "authorization_ttl_seconds"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        store = try c.decode(.store, default: store)
        sqlite = try c.decode(.sqlite, default: sqlite)
        postgres = try c.decode(.postgres, default: postgres)
        leaseSeconds = try c.decode(.leaseSeconds, default: leaseSeconds)
        encryption = try c.decode(.encryption, default: encryption)
        callbackBaseURL = try c.decodeOptional(.callbackBaseURL)
        authorizationTTLSeconds = try c.decode(.authorizationTTLSeconds, default: authorizationTTLSeconds)
        refresh = try c.decode(.refresh, default: refresh)
        apiPrefixes = try c.decode(.apiPrefixes, default: apiPrefixes)
        exposeRefreshTokens = try c.decode(.exposeRefreshTokens, default: exposeRefreshTokens)
    }

    /// `/x` or `/x/y`: lowercase segments of a–z, 0–9, `-`, `_`, no trailing slash.
    package static func isValidPrefix(_ prefix: String) -> Bool {
        guard prefix.hasPrefix("/"), (2...64).contains(prefix.utf8.count) else { return false }
        let segments = prefix.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return segments.allSatisfy { segment in
            !segment.isEmpty && segment.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
        }
    }
}

/// `registry.refresh`: the background refresh, which keeps held tokens fresh whatever the
/// request rate, and refresh tokens alive.
package struct RegistryRefreshConfig: Sendable, Decodable {
    /// How often connections are scanned.
    package var intervalSeconds = 60
    /// A held access token this close to expiry is replaced.
    package var aheadSeconds = 300
    /// A refresh token unused this long is exercised, so an IdP's idle timeout never lapses it.
    package var keepaliveHours = 24

    enum CodingKeys: String, CodingKey, CaseIterable {
        case intervalSeconds = "interval_seconds"
        case aheadSeconds = "ahead_seconds"
        case keepaliveHours = "keepalive_hours"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        intervalSeconds = try c.decode(.intervalSeconds, default: intervalSeconds)
        aheadSeconds = try c.decode(.aheadSeconds, default: aheadSeconds)
        keepaliveHours = try c.decode(.keepaliveHours, default: keepaliveHours)
    }
}

/// `registry.postgres`.
package struct PostgresStoreConfig: Sendable, Decodable {
    /// `postgres://user:password@host:5432/database?sslmode=require` (`${file:…}` reads it from a
    /// Secret). `sslmode`: disable, prefer (the default) or require (verified against the system roots).
    package var url: Secret?
    /// The schema the tables live in (created when missing).
    package var schema = "public"
    package var maxConnections = 10

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, schema
        case maxConnections = "max_connections"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        url = try c.decodeOptional(.url)
        schema = try c.decode(.schema, default: schema)
        maxConnections = try c.decode(.maxConnections, default: maxConnections)
    }

    /// A lowercase SQL identifier: letters, digits and `_`, not starting with a digit, at most 63.
    package static func isValidSchema(_ name: String) -> Bool {
        guard let first = name.utf8.first, (1...63).contains(name.utf8.count), !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }
}

/// `registry.sqlite`.
package struct SQLiteStoreConfig: Sendable, Decodable {
    /// Created (directory 0700, file 0600) when missing.
    package var path = "./tollgate-data/registry.sqlite"

    enum CodingKeys: String, CodingKey, CaseIterable { case path }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        path = try c.decode(.path, default: path)
    }
}

/// `registry.encryption`: the key-encryption keys. The first seals; all open.
package struct RegistryEncryptionConfig: Sendable, Decodable {
    package var keys: [RegistryKeyConfig] = []
    /// Development only: with no `keys`, a key is read from this file, or generated into it (0600)
    /// with a loud warning on first start.
    package var devKeyFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keys
        case devKeyFile = "dev_key_file"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        keys = try c.decode(.keys, default: keys)
        devKeyFile = try c.decodeOptional(.devKeyFile)
    }
}

/// `registry.encryption.keys[]`.
package struct RegistryKeyConfig: Sendable, Decodable {
    package var id: String
    /// Base64 of 32 random bytes (`openssl rand -base64 32`); `${file:…}` reads it from a secret.
    package var key: Secret

    enum CodingKeys: String, CodingKey, CaseIterable { case id, key }

    package init(id: String, key: Secret) {
        self.id = id
        self.key = key
    }

    /// 1–64 visible ASCII characters.
    package static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// The 32 key bytes `material` encodes in base64 (surrounding whitespace ignored), or nil.
    package static func keyBytes(_ material: String) -> Data? {
        guard let bytes = Data(base64Encoded: material.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else { return nil }
        return bytes
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        id = try c.decode(.id)
        key = try c.decode(.key)
    }
}
