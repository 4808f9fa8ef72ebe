import Crypto
import Foundation
import TollgateConfiguration

/// The registry's key-encryption keys (`registry.encryption.keys`): the first seals, every one
/// opens, so keys rotate by putting a new one first and running `tollgate registry rewrap`.
package struct RegistryKeyring: Sendable {
    package struct Key: Sendable {
        package let id: String
        let key: SymmetricKey
    }

    package enum Failure: Error, Equatable, CustomStringConvertible {
        /// A row sealed under a key the configuration no longer names.
        case unknownKey(String)
        /// Authentication failed: the row was altered, moved to another id, or the key is wrong.
        case unreadable
        case badKey(String)

        package var description: String {
            switch self {
            case .unknownKey(let id): "sealed under key \(id), which registry.encryption.keys does not name"
            case .unreadable: "sealed data does not authenticate"
            case .badKey(let reason): reason
            }
        }
    }

    package let keys: [Key]
    package var currentKeyID: String { keys[0].id }

    /// `material` is the key as configured: base64 of exactly 32 bytes.
    package init(keys: [(id: String, material: String)]) throws {
        guard !keys.isEmpty else { throw Failure.badKey("at least one key is needed") }
        var seen = Set<String>()
        self.keys = try keys.map { id, material in
            guard RegistryKeyConfig.isValidID(id) else { throw Failure.badKey("a key id must be 1–64 visible ASCII characters") }
            guard seen.insert(id).inserted else { throw Failure.badKey("key id \(id) is listed twice") }
            guard let bytes = RegistryKeyConfig.keyBytes(material) else {
                throw Failure.badKey("key \(id) must be base64 of 32 random bytes (openssl rand -base64 32)")
            }
            return Key(id: id, key: SymmetricKey(data: bytes))
        }
    }

    /// 32 random bytes, base64: a new key for `registry.encryption.keys`.
    package static func generateKeyMaterial() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Seals under a fresh data key, wrapped by the current key.
    package func seal(_ secrets: ConnectionSecrets, rowID: String) throws -> SealedSecrets {
        let dataKey = SymmetricKey(size: .bits256)
        let plaintext = try JSONEncoder().encode(secrets)
        guard let ciphertext = try AES.GCM.seal(plaintext, using: dataKey, authenticating: Data(rowID.utf8)).combined else {
            throw Failure.unreadable
        }
        return SealedSecrets(keyID: currentKeyID, wrappedKey: try wrap(dataKey, rowID: rowID, with: keys[0]), ciphertext: ciphertext)
    }

    package func open(_ sealed: SealedSecrets, rowID: String) throws -> ConnectionSecrets {
        let dataKey = try unwrap(sealed, rowID: rowID)
        do {
            let plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed.ciphertext), using: dataKey, authenticating: Data(rowID.utf8))
            return try JSONDecoder().decode(ConnectionSecrets.self, from: plaintext)
        } catch {
            throw Failure.unreadable
        }
    }

    /// The same data key wrapped by the current key; nil when it already is.
    package func rewrapped(_ sealed: SealedSecrets, rowID: String) throws -> SealedSecrets? {
        guard sealed.keyID != currentKeyID else { return nil }
        let dataKey = try unwrap(sealed, rowID: rowID)
        return SealedSecrets(keyID: currentKeyID, wrappedKey: try wrap(dataKey, rowID: rowID, with: keys[0]), ciphertext: sealed.ciphertext)
    }

    private func wrap(_ dataKey: SymmetricKey, rowID: String, with key: Key) throws -> Data {
        let bytes = dataKey.withUnsafeBytes { Data($0) }
        guard let wrapped = try AES.GCM.seal(bytes, using: key.key, authenticating: Self.wrapContext(rowID: rowID, keyID: key.id)).combined else {
            throw Failure.unreadable
        }
        return wrapped
    }

    private func unwrap(_ sealed: SealedSecrets, rowID: String) throws -> SymmetricKey {
        guard let key = keys.first(where: { $0.id == sealed.keyID }) else { throw Failure.unknownKey(sealed.keyID) }
        do {
            let bytes = try AES.GCM.open(
                AES.GCM.SealedBox(combined: sealed.wrappedKey), using: key.key,
                authenticating: Self.wrapContext(rowID: rowID, keyID: key.id))
            guard bytes.count == 32 else { throw Failure.unreadable }
            return SymmetricKey(data: bytes)
        } catch {
            throw Failure.unreadable
        }
    }

    private static func wrapContext(rowID: String, keyID: String) -> Data {
        Data("tollgate-registry-v1\u{0}\(rowID)\u{0}\(keyID)".utf8)
    }
}
