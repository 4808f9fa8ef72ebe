import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// The token-injecting reverse proxy against an upstream written in the test.
/// The largest of the samples recorded (peak memory while streaming).
final class PeakSampler: Sendable {
    private let value = Mutex(0)
    func record(_ sample: Int) { value.withLock { $0 = Swift.max($0, sample) } }
    var max: Int { value.withLock { $0 } }
}

extension HTTPClientRequest {
    func with(header name: String, _ value: String) -> HTTPClientRequest {
        var copy = self
        copy.headers.add(name: name, value: value)
        return copy
    }
}
