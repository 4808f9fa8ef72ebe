import NIOCore
import NIOSSL
import X509

/// The verified client certificate of a TLS connection, as the names `admin.client_certificates`
/// lists: `CN=…` and each subject alternative name (`DNS:`, `URI:`, `email:`, `IP:`).
enum ClientCertificate {
    /// Empty without TLS, without a certificate, or when it cannot be read. NIOSSL has already
    /// verified it against `client_ca_file` during the handshake.
    static func names(on channel: any Channel) async -> [String] {
        let certificate = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        }.get()
        guard let certificate, let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return [] }
        var names: [String] = []
        for relative in parsed.subject {
            for attribute in relative where attribute.type == .RDNAttributeType.commonName {
                if let value = String(attribute.value) { names.append("CN=" + value) }
            }
        }
        let alternatives: [GeneralName] = ((try? parsed.extensions.subjectAlternativeNames) ?? nil).map(Array.init) ?? []
        for name in alternatives {
            switch name {
            case .dnsName(let value): names.append("DNS:" + value)
            case .uniformResourceIdentifier(let value): names.append("URI:" + value)
            case .rfc822Name(let value): names.append("email:" + value)
            case .ipAddress(let bytes): if let text = ipText(Array(bytes.bytes)) { names.append("IP:" + text) }
            default: break
            }
        }
        return names
    }

    /// The base64url SHA-256 of the verified client certificate's DER (RFC 8705 `x5t#S256`); nil
    /// without TLS or without a certificate.
    static func thumbprint(on channel: any Channel) async -> String? {
        let certificate = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        }.get()
        guard let certificate, let der = try? certificate.toDERBytes() else { return nil }
        return ForwardedCertificate.digest(der)
    }

    private static func ipText(_ bytes: [UInt8]) -> String? {
        switch bytes.count {
        case 4: return bytes.map(String.init).joined(separator: ".")
        case 16: return try? SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: 0).ipAddress
        default: return nil
        }
    }
}
