import Logging
import TollgateConfiguration
import TollgateInbound
import TollgateKit

extension TollgateApp {
    /// The nonce issuer when proofs must carry server nonces; a key of this process's own is said
    /// at start, since replicas behind one Service then refuse each other's nonces.
    static func dpopNonces(_ config: DPoPConfig, clock: any TollgateClock, logger: Logger) throws -> DPoPNonces? {
        guard config.requireNonce else { return nil }
        if config.nonceKeyFile == nil {
            logger.notice(
                "inbound.dpop.require_nonce without nonce_key_file: nonces are this process's own; give replicas one shared key file")
        }
        return try DPoPNonces(keyFile: config.nonceKeyFile, lifetimeSeconds: config.nonceLifetimeSeconds, clock: clock)
    }
}
