import Foundation
import Logging
import TollgateConfiguration

/// The keyring `registry.encryption` describes: the configured keys, or (development only) the
/// key in `dev_key_file`, generated there on first start.
enum RegistryKeys {
    static func keyring(_ config: RegistryEncryptionConfig, logger: Logger) throws -> RegistryKeyring {
        if !config.keys.isEmpty {
            return try RegistryKeyring(keys: config.keys.map { ($0.id, $0.key.value) })
        }
        guard let path = config.devKeyFile else { throw RegistryKeyring.Failure.badKey("no registry.encryption.keys") }
        if let existing = FileManager.default.contents(atPath: path) {
            logger.warning(
                "REGISTRY SEALED WITH A DEVELOPMENT KEY from registry.encryption.dev_key_file; production configs name their keys in registry.encryption.keys",
                metadata: ["file": .string(path)])
            return try RegistryKeyring(keys: [("dev", String(decoding: existing, as: UTF8.self))])
        }
        let material = RegistryKeyring.generateKeyMaterial()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        guard FileManager.default.createFile(atPath: path, contents: Data((material + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw RegistryKeyring.Failure.badKey("cannot write registry.encryption.dev_key_file \(path)")
        }
        logger.warning(
            "GENERATED A DEVELOPMENT REGISTRY KEY in registry.encryption.dev_key_file: anyone who reads this file can read every stored secret. For development only; production configs name their keys in registry.encryption.keys",
            metadata: ["file": .string(path)])
        return try RegistryKeyring(keys: [("dev", material)])
    }
}
