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

/// Ports already handed to a test: the kernel may give a released port to the next bind(0), and
/// tests start servers in parallel.
private let portsHandedOut = Mutex<Set<Int>>([])

/// A free loopback TCP port, found by binding port 0 and releasing it; never the same twice.
func freePort() async throws -> Int {
    while true {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        if portsHandedOut.withLock({ $0.insert(port).inserted }) { return port }
    }
}
