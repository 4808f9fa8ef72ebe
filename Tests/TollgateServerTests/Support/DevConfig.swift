import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// The dev-issuer config the tests start from.
func devConfig(port: Int, _ adjust: (inout TollgateConfig) -> Void = { _ in }) -> TollgateConfig {
    var config = TollgateConfig()
    config.server.port = port
    config.log.level = .trace
    config.devIssuer = DevIssuerConfig(
        enabled: true,
        clients: [
            DevClientConfig(clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret", scopes: ["read", "write"]),
            DevClientConfig(clientID: "reader", clientSecret: "reader secret&=+", scopes: ["read"]),
        ])
    config.inbound.issuers = [
        IssuerConfig(
            name: "dev", issuer: nil, embedded: true, introspection: IntrospectionConfig(clientID: "tollgate-dev", clientSecret: "tollgate-dev-secret"))
    ]
    adjust(&config)
    return config
}
