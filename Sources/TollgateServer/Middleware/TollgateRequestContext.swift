package import Hummingbird
import Logging
import NIOCore

/// Per-request state shared by middleware and adapters.
package struct TollgateRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The caller's `X-Request-Id` when it is sane, else one Tollgate made; echoed on the response.
    package var requestID: String = ""
    /// Set by the observability middleware when the access log is on.
    var accessNote: AccessNote?
    /// Who passed the admin guard (an API key's place in `admin.api_keys`, a bearer's subject, a
    /// certificate's name): seed 002's `created_by` when the caller sends no `X-User-Id`.
    var adminIdentity: String?
    /// The connection, for the peer's address (asked only when a forwarded header needs trusting).
    let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var peerAddress: SocketAddress? { channel.remoteAddress }
}
