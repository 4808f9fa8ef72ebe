/// `server.tls`: HTTPS for every caller, optionally with client certificates (mTLS). The files are
/// watched and reloaded when they change (cert-manager rotates them in place), without a restart.
package struct ServerTLSConfig: Sendable, Decodable {
    package enum ClientAuth: String, ConfigEnum {
        case none
        /// A presented certificate must chain to `client_ca_file`; none is fine too.
        case optional
        /// The handshake fails without a certificate that chains to `client_ca_file`.
        case required
    }

    package var certFile: String
    package var keyFile: String
    package var clientCAFile: String?
    package var clientAuth: ClientAuth = .none
    /// How often the files are checked for changes.
    package var reloadCheckSeconds = 10

    enum CodingKeys: String, CodingKey, CaseIterable {
        case certFile = "cert_file"
        case keyFile = "key_file"
        case clientCAFile = "client_ca_file"
        case clientAuth = "client_auth"
        case reloadCheckSeconds = "reload_check_seconds"
    }

    package init(certFile: String, keyFile: String, clientCAFile: String? = nil, clientAuth: ClientAuth = .none) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        self.clientAuth = clientAuth
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        certFile = try c.decode(.certFile)
        keyFile = try c.decode(.keyFile)
        clientCAFile = try c.decodeOptional(.clientCAFile)
        clientAuth = try c.decode(.clientAuth, default: clientAuth)
        reloadCheckSeconds = try c.decode(.reloadCheckSeconds, default: reloadCheckSeconds)
    }
}
