package import AsyncHTTPClient
import NIOCore
package import NIOSSL

/// Pooled outbound HTTP clients: one on the system roots, one per extra CA bundle. Components
/// are handed their client once, when they are built; nothing looks one up per request.
package final class HTTPClients: Sendable {
    package let shared: HTTPClient
    private let extra: [String: HTTPClient]

    package init(caFiles: Set<String>, configuration: (TLSConfiguration?) -> HTTPClient.Configuration = HTTPClients.identityProvider) throws {
        shared = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration(nil))
        var extra: [String: HTTPClient] = [:]
        for caFile in caFiles {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            extra[caFile] = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration(tls))
        }
        self.extra = extra
    }

    package func client(caFile: String?) -> HTTPClient {
        caFile.flatMap { extra[$0] } ?? shared
    }

    package func shutdown() async {
        for client in [shared] + Array(extra.values) { try? await client.shutdown() }
    }

    /// IdP calls never follow redirects (an endpoint that moves is a misconfiguration to surface).
    package static func identityProvider(tls: TLSConfiguration?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(2))
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        configuration.tracing.tracer = nil
        return configuration
    }
}
