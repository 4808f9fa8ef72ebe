import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import TollgateConfiguration
import TollgateKit

/// `server.tls`: the certificate and key each new connection gets. The files are checked every
/// `reload_check_seconds`; when they changed, the next handshakes use the new ones (open
/// connections keep theirs), through NIOSSL's per-handshake context callback. A broken new pair
/// keeps the old one and logs. The client CA is read at start only.
final class ServerTLSContext: Service, Sendable {
    private struct Pair: @unchecked Sendable {
        // NIOSSL's certificate and key are immutable references to BoringSSL objects.
        var chain: [NIOSSLCertificateSource]
        var key: NIOSSLPrivateKeySource
        var stamps: [FileStamp]
    }

    private let config: ServerTLSConfig
    private let logger: Logger
    private let pair: Mutex<Pair>
    private let caStamp: FileStamp?
    /// Told whether each reload of changed files worked (`tollgate_tls_reloads_total`).
    private let reloaded: @Sendable (_ succeeded: Bool) -> Void

    init(config: ServerTLSConfig, logger: Logger, reloaded: @escaping @Sendable (_ succeeded: Bool) -> Void = { _ in }) throws {
        self.config = config
        self.logger = logger
        self.reloaded = reloaded
        pair = Mutex(try Self.load(config))
        caStamp = config.clientCAFile.map { FileStamp(path: $0) }
        _ = try NIOSSLContext(configuration: configuration)
    }

    /// The server's TLS settings; the certificate and key are looked up again at every handshake.
    var configuration: TLSConfiguration {
        let current = pair.withLock { $0 }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: current.chain, privateKey: current.key)
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = ["http/1.1"]
        switch config.clientAuth {
        case .none: tls.certificateVerification = .none
        case .optional: tls.certificateVerification = .optionalVerification
        case .required: tls.certificateVerification = .noHostnameVerification
        }
        if let caFile = config.clientCAFile { tls.trustRoots = .file(caFile) }
        tls.sslContextCallback = { [self] _, promise in
            let current = pair.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = current.chain
            override.privateKey = current.key
            promise.succeed(override)
        }
        return tls
    }

    /// Loads the pair again when a file changed; true when the new one is in use.
    @discardableResult
    func reloadIfChanged() -> Bool {
        if let caFile = config.clientCAFile, FileStamp(path: caFile) != caStamp {
            logger.warning("server.tls.client_ca_file changed: the client CA is read at start only; restart to use the new one")
        }
        let stamps = Self.stamps(config)
        guard stamps != pair.withLock({ $0.stamps }) else { return false }
        do {
            let fresh = try Self.load(config)
            pair.withLock { $0 = fresh }
            logger.notice("server TLS certificate changed: new connections use it")
            reloaded(true)
            return true
        } catch {
            // A half-written rotation: keep the previous pair, look again next time.
            pair.withLock { $0.stamps = stamps }
            logger.error(
                "server TLS files changed but cannot be loaded; keeping the previous certificate",
                metadata: ["error": .string(String(describing: error))])
            reloaded(false)
            return false
        }
    }

    func run() async throws {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(config.reloadCheckSeconds))
            } catch {
                return
            }
            reloadIfChanged()
        }
    }

    private static func stamps(_ config: ServerTLSConfig) -> [FileStamp] {
        [FileStamp(path: config.certFile), FileStamp(path: config.keyFile)]
    }

    private static func load(_ config: ServerTLSConfig) throws -> Pair {
        let stamps = stamps(config)
        let chain = try NIOSSLCertificate.fromPEMFile(config.certFile).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
        let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: config.keyFile, format: .pem))
        // The pair must belong together: a context built from them refuses a key that does not match.
        var check = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        check.minimumTLSVersion = .tlsv12
        _ = try NIOSSLContext(configuration: check)
        return Pair(chain: chain, key: key, stamps: stamps)
    }
}
