import Crypto
import Foundation
import Synchronization
import TollgateConfiguration
import TollgateKit
import TollgateRegistry

/// A signed-in person, kept server-side; the cookie holds only a random name for it, and the
/// store only the SHA-256 of that name. No token of the person's is ever kept.
struct ConsoleSession: Codable, Sendable, Equatable {
    /// The ID token's `sub` (or the certificate's name), cleaned.
    let subject: String
    /// A name to greet with (`name`, `preferred_username`), cleaned.
    let displayName: String
    /// What let the person in (`scope:x`, `role:y`, `group:z`, `certificate`).
    let grantedBy: String
    /// Every form carries it; a POST without it is refused.
    let csrfToken: String
    let createdAt: Double
    var lastSeenAt: Double

    /// Who did it, for the audit trail's `admin` and a connection's `created_by`.
    var identity: String { "console:" + subject }
}

/// A sign-in under way: what the callback needs, keyed by the SHA-256 of its `state`.
struct PendingSignIn: Codable, Sendable {
    let codeVerifier: String
    let nonce: String
    let returnTo: String
    let expiresAt: Double
    /// The SHA-256 of the sign-in cookie set in the browser that started it: a callback from
    /// another browser (someone else's code and state, planted by a link) is refused.
    let browserDigest: String
}

/// Small documents by key, with a lifetime: this process's memory, or the registry's store so
/// that replicas behind one Service share sessions.
protocol ConsoleDocumentStore: Sendable {
    func put(_ key: String, _ value: Data) async throws
    func get(_ key: String) async throws -> Data?
    func delete(_ key: String) async throws
    /// Forgets what `prefix` names and was last written before `before`.
    func sweep(prefix: String, before: Double) async throws
}

final class MemoryConsoleStore: ConsoleDocumentStore {
    private let documents = Mutex<[String: (value: Data, written: Double)]>([:])
    private let clock: any TollgateClock
    /// Bounded: a flood of sign-ins started and never finished must not grow memory without end.
    static let capacity = 10_000

    init(clock: any TollgateClock) { self.clock = clock }

    func put(_ key: String, _ value: Data) async throws {
        let now = clock.now()
        try documents.withLock { documents in
            guard documents.count < Self.capacity || documents[key] != nil else { throw ConsoleStoreFull() }
            documents[key] = (value, now)
        }
    }

    func get(_ key: String) async throws -> Data? { documents.withLock { $0[key]?.value } }
    func delete(_ key: String) async throws { _ = documents.withLock { $0.removeValue(forKey: key) } }

    func sweep(prefix: String, before: Double) async throws {
        documents.withLock { documents in documents = documents.filter { !($0.key.hasPrefix(prefix) && $0.value.written < before) } }
    }
}

struct ConsoleStoreFull: Error {}

/// The registry's store (SQLite, or PostgreSQL shared by replicas), through its documents.
struct RegistryConsoleStore: ConsoleDocumentStore {
    let store: any ConnectionStore
    let clock: any TollgateClock

    func put(_ key: String, _ value: Data) async throws { try await store.putDocument(key: key, value: value, now: clock.now()) }
    func get(_ key: String) async throws -> Data? { try await store.document(key: key) }
    // Keys end in a fixed-length hex digest, so the prefix names exactly one.
    func delete(_ key: String) async throws { try await store.deleteDocuments(prefix: key, updatedBefore: .greatestFiniteMagnitude) }
    func sweep(prefix: String, before: Double) async throws { try await store.deleteDocuments(prefix: prefix, updatedBefore: before) }
}

/// Sessions and sign-ins under way, with idle and absolute expiry.
final class ConsoleSessions: Sendable {
    enum Lookup: Sendable, Equatable {
        case active(ConsoleSession)
        /// There was one, and it ran out (idle or absolute): the person is asked to sign in again.
        case expired
        case none
    }

    static let sessionPrefix = "console-session:"
    static let signInPrefix = "console-signin:"
    /// A sign-in not finished within this long is forgotten.
    static let signInSeconds = 600.0
    /// A session's last-seen time is written back at most this often.
    static let touchSeconds = 60.0

    private let store: any ConsoleDocumentStore
    private let settings: ConsoleSessionConfig
    private let clock: any TollgateClock
    private let lastSweep = Mutex<Double>(0)

    init(store: any ConsoleDocumentStore, settings: ConsoleSessionConfig, clock: any TollgateClock) {
        self.store = store
        self.settings = settings
        self.clock = clock
    }

    /// A new session; the value to put in the cookie.
    func begin(subject: String, displayName: String, grantedBy: String) async throws -> (cookie: String, session: ConsoleSession) {
        let now = clock.now()
        let session = ConsoleSession(
            subject: PrintableText.clean(subject, limit: 128), displayName: PrintableText.clean(displayName, limit: 128), grantedBy: grantedBy,
            csrfToken: Self.randomToken(), createdAt: now, lastSeenAt: now)
        let cookie = Self.randomToken()
        try await store.put(Self.sessionPrefix + SecretDigest.sha256Hex(cookie), JSONEncoder().encode(session))
        await sweepNow(now)
        return (cookie, session)
    }

    /// The session a cookie names. Throws when the store cannot be asked (the caller refuses).
    func find(cookie: String?) async throws -> Lookup {
        guard let cookie, cookie.utf8.count == 43, cookie.utf8.allSatisfy(Base64URL.isAlphabet) else { return .none }
        let key = Self.sessionPrefix + SecretDigest.sha256Hex(cookie)
        guard let data = try await store.get(key), var session = try? JSONDecoder().decode(ConsoleSession.self, from: data) else { return .none }
        let now = clock.now()
        if now - session.lastSeenAt > Double(settings.idleTimeoutSeconds) || now - session.createdAt > Double(settings.absoluteTimeoutSeconds) {
            try await store.delete(key)
            return .expired
        }
        if now - session.lastSeenAt >= Self.touchSeconds {
            session.lastSeenAt = now
            try await store.put(key, JSONEncoder().encode(session))
        }
        return .active(session)
    }

    func end(cookie: String?) async throws {
        guard let cookie, cookie.utf8.count == 43 else { return }
        try await store.delete(Self.sessionPrefix + SecretDigest.sha256Hex(cookie))
    }

    /// Keeps a sign-in under way, bound to the browser's sign-in cookie `browser`; its `state`.
    func remember(_ pending: (verifier: String, nonce: String, returnTo: String), browser: String) async throws -> String {
        let state = Self.randomToken()
        let record = PendingSignIn(
            codeVerifier: pending.verifier, nonce: pending.nonce, returnTo: pending.returnTo, expiresAt: clock.now() + Self.signInSeconds,
            browserDigest: SecretDigest.sha256Hex(browser))
        try await store.put(Self.signInPrefix + SecretDigest.sha256Hex(state), JSONEncoder().encode(record))
        return state
    }

    /// The sign-in `state` names, once: a second callback with the same state finds nothing.
    func take(state: String) async throws -> PendingSignIn? {
        guard (1...128).contains(state.utf8.count) else { return nil }
        let key = Self.signInPrefix + SecretDigest.sha256Hex(state)
        guard let data = try await store.get(key) else { return nil }
        try await store.delete(key)
        guard let pending = try? JSONDecoder().decode(PendingSignIn.self, from: data), pending.expiresAt > clock.now() else { return nil }
        return pending
    }

    /// Expired sessions and abandoned sign-ins go, at most once a minute.
    private func sweepNow(_ now: Double) async {
        let due = lastSweep.withLock { last in
            guard now - last >= 60 else { return false }
            last = now
            return true
        }
        guard due else { return }
        try? await store.sweep(prefix: Self.sessionPrefix, before: now - Double(settings.idleTimeoutSeconds))
        try? await store.sweep(prefix: Self.signInPrefix, before: now - Self.signInSeconds)
    }

    /// 32 random bytes, base64url (43 characters).
    static func randomToken() -> String {
        Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }
}
