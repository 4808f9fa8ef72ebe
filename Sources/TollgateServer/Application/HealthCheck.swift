import AsyncHTTPClient
import NIOCore
import TollgateKit

/// `tollgate healthcheck`: for container HEALTHCHECKs and exec probes in images without curl.
package enum HealthCheck {
    /// True when `url` answers 200 within `timeoutSeconds`.
    package static func passes(url: String, timeoutSeconds: Int64 = 2) async -> Bool {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        defer { Task { try? await client.shutdown() } }
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(timeoutSeconds))
            _ = try? await response.body.collect(upTo: 1 << 16)
            return response.status.code == 200
        } catch {
            return false
        }
    }
}
