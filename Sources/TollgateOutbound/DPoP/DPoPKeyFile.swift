import Synchronization
import TollgateKit

/// An outbound server's `dpop_key_file`, watched for rotation: when the file changes and holds a
/// new P-256 key, proofs are signed with it from then on, and the held token (bound to the old
/// key, so no proof can carry it any more) is dropped for a new one. A file that does not parse
/// keeps the old key.
package final class DPoPKeyFile: Sendable {
    package enum Change: Sendable, Equatable {
        /// A new key; its RFC 7638 thumbprint.
        case rotated(thumbprint: String)
        /// The file changed but holds no usable key; the old one stays.
        case unusable(String)
    }

    package let server: String
    package let path: String
    private let key: DPoPKey
    private let tokens: TokenSource
    private let stamp: Mutex<FileStamp>

    init(server: String, path: String, key: DPoPKey, tokens: TokenSource) {
        self.server = server
        self.path = path
        self.key = key
        self.tokens = tokens
        stamp = Mutex(FileStamp(path: path))
    }

    /// Nil while the file is unchanged (or changed to the same key).
    package func reloadIfChanged() -> Change? {
        let now = FileStamp(path: path)
        guard stamp.withLock({ $0 }) != now else { return nil }
        stamp.withLock { $0 = now }
        let next: DPoPKey.PrivateKey
        do {
            next = try DPoPKey.read(pemFile: path)
        } catch {
            return .unusable("not a readable P-256 private key in PEM")
        }
        guard key.rotate(to: next) else { return nil }
        tokens.clear()
        return .rotated(thumbprint: key.thumbprint)
    }
}
