package import HTTPTypes
package import NIOCore
import NIOPosix
package import NIOHTTP1
package import TollgateConfiguration
import TollgateKit

/// What the proxy reports for metrics.
package protocol UpstreamObserver: Sendable {
    func upstreamAnswered(server: String, status: Int, seconds: Double)
}

/// Why a proxied request got no upstream answer. The server maps these onto seed-004 codes.
package enum ProxyFailure: Error, Equatable {
    case unknownServer
    case badPath
    case tooLarge
    case token(TokenFetchError)
    /// The caller's body failed, was cut short or was abandoned: the caller's fault, not the upstream's.
    case callerBody
    case connectionFailed
    case timeout
    case upstreamError
    /// The peer's breaker is open: no request goes out for this many seconds.
    case circuitOpen(retryAfter: Double)

    /// A bounded label for trace spans.
    var label: String {
        switch self {
        case .unknownServer: "unknown_server"
        case .badPath: "bad_path"
        case .tooLarge: "too_large"
        case .token: "token"
        case .callerBody: "caller_body"
        case .connectionFailed: "connection_failed"
        case .timeout: "timeout"
        case .upstreamError: "upstream_error"
        case .circuitOpen: "circuit_open"
        }
    }
}

/// A caller's request body as it crosses into the proxy: any stream of bytes, and its declared length.
package struct UpstreamBody<Stream: AsyncSequence & Sendable>: Sendable where Stream.Element == ByteBuffer {
    package let stream: Stream
    package let length: Int?

    package init(stream: Stream, length: Int?) {
        self.stream = stream
        self.length = length
    }
}

/// The token-injecting reverse proxy: the caller's request goes to the server's `url` plus the
/// caller's path, with only allowlisted headers and a fresh `Authorization: Bearer`; bodies are
/// streamed both ways, never buffered.
package final class UpstreamProxy: Sendable {
    private let servers: OutboundServers
    /// Pools for runtime connections' URLs (one per URL, system trust roots).
    private let pools: UpstreamPools?
    private let allowlist: Set<String>
    /// `proxy.max_body_bytes` (0: unlimited); streamed bodies are held to it by the caller's side.
    package let maxBodyBytes: Int
    private let observer: any UpstreamObserver

    package init(servers: OutboundServers, config: ProxyConfig, observer: any UpstreamObserver, pools: UpstreamPools? = nil) {
        self.servers = servers
        self.pools = pools
        self.allowlist = Set(config.forwardRequestHeaders.map { $0.lowercased() })
        self.maxBodyBytes = config.maxBodyBytes
        self.observer = observer
    }

    /// Whether a request carries a body, by its headers (RFC 9112 §6.3), and its declared length.
    package static func declaredBody(_ headers: HTTPFields) -> (present: Bool, length: Int?) {
        let length = headers[.contentLength].flatMap(Int.init)
        return (length.map { $0 > 0 } ?? (headers[.transferEncoding] != nil), length)
    }

    /// A configured server's route, if `name` is one.
    package func route(server name: String) -> ProxyRoute? {
        servers[name].map(ProxyRoute.init(server:))
    }

    /// The route to a configured server.
    package func route(to server: OutboundServer) -> ProxyRoute {
        ProxyRoute(server: server)
    }

    /// A route to `url` for a runtime connection; nil when the URL is unusable or no pools were given.
    package func route(
        runtime name: String, url: String,
        token: @escaping @Sendable (AccessToken?) async -> Result<AccessToken, TokenFetchError>
    ) -> ProxyRoute? {
        guard let pool = try? pools?.sharedPool(url: url) else { return nil }
        return ProxyRoute(name: name, pool: pool, token: token)
    }

    package func forward<Body>(
        server name: String, method: HTTPRequest.Method, path: Substring, query: String?,
        headers incoming: HTTPFields, body openBody: (@Sendable () -> UpstreamBody<Body>)?, requestID: String
    ) async -> Result<UpstreamResponse, ProxyFailure> {
        guard let route = route(server: name) else { return .failure(.unknownServer) }
        return await forward(route: route, method: method, path: path, query: query, headers: incoming, body: openBody, requestID: requestID)
    }

    package func forward<Body>(
        route server: ProxyRoute, method: HTTPRequest.Method, path: Substring, query: String?,
        headers incoming: HTTPFields, body openBody: (@Sendable () -> UpstreamBody<Body>)?, requestID: String
    ) async -> Result<UpstreamResponse, ProxyFailure> {
        let name = server.name
        let pool = server.pool
        let target: String
        do { target = try ProxyTarget.url(base: pool.endpoint.basePath, path: path, query: query) } catch { return .failure(.badPath) }
        let declaredLength = Self.declaredBody(incoming).length
        if maxBodyBytes > 0, let declaredLength, declaredLength > maxBodyBytes { return .failure(.tooLarge) }

        var headers = ProxyHeaders.upstreamRequestHeaders(from: incoming, allowlist: allowlist)
        for header in server.staticHeaders { headers.replaceOrAdd(name: header.name, value: header.value) }
        headers.replaceOrAdd(name: "Host", value: pool.endpoint.hostHeader)
        headers.add(name: "X-Request-Id", value: requestID)
        var token: AccessToken
        switch await server.token(nil) {
        case .success(let held): token = held
        case .failure(let error): return .failure(.token(error))
        }
        // The caller's body is opened only now, when it is certain to be sent.
        let body = openBody?()
        if let body {
            if let length = body.length {
                headers.replaceOrAdd(name: "Content-Length", value: String(length))
            } else {
                headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            }
        }
        let httpMethod = HTTPMethod(rawValue: method.rawValue)
        let url = pool.endpoint.url(target)
        var retried = false
        var nonceRetried = false
        while true {
            // A DPoP-bound token goes with a fresh proof for this very request (RFC 9449 §7.1).
            if token.isDPoPBound, let dpop = server.dpop {
                headers.replaceOrAdd(name: "Authorization", value: "DPoP " + token.value)
                headers.replaceOrAdd(name: "DPoP", value: dpop.proof(method: method.rawValue, url: url, accessToken: token.value))
            } else {
                headers.replaceOrAdd(name: "Authorization", value: "Bearer " + token.value)
                headers.remove(name: "DPoP")
            }
            if let wait = server.breaker?.permit() { return .failure(.circuitOpen(retryAfter: wait)) }
            let span = OutboundCallSpan.start("proxy", method: method.rawValue, url: url, headers: &headers)
            let head = HTTPRequestHead(version: .http1_1, method: httpMethod, uri: target, headers: headers)
            let started = ContinuousClock.now
            let response: UpstreamResponse
            do {
                response = try await exchange(pool, head: head, body: body)
            } catch {
                let failure = Self.classify(error)
                // A caller that hung up or sent a broken body says nothing about the peer.
                if failure == .callerBody { server.breaker?.recordNeutral() } else { server.breaker?.recordFailure() }
                span.end(failure: failure.label)
                return .failure(failure)
            }
            span.end(status: Int(response.status.code))
            if server.failureStatuses.contains(Int(response.status.code)) {
                server.breaker?.recordFailure()
            } else {
                server.breaker?.recordSuccess()
            }
            observer.upstreamAnswered(server: name, status: Int(response.status.code), seconds: (ContinuousClock.now - started).seconds)
            let newNonce = token.isDPoPBound && server.dpop?.note(nonce: response.headers.first(name: "DPoP-Nonce"), from: url) == true
            // A 401 before expiry means the token was revoked or the peer's keys moved: one fresh
            // token, one retry, and only for requests that are safe to repeat and carry no body.
            guard response.status == .unauthorized, body == nil, method == .get || method == .head else { return .success(response) }
            // The peer wants its DPoP nonce in the proof (RFC 9449 §9): the same token once more.
            if newNonce, !nonceRetried, response.headers[canonicalForm: "WWW-Authenticate"].contains(where: { $0.contains("use_dpop_nonce") }) {
                await response.body.drain(limit: 1 << 16)
                nonceRetried = true
                continue
            }
            guard !retried else { return .success(response) }
            guard case .success(let fresh) = await server.token(token), fresh != token else { return .success(response) }
            await response.body.drain(limit: 1 << 16)
            token = fresh
            retried = true
        }
    }

    /// One request on a pooled connection. A reused connection the peer closed while it sat idle
    /// fails before any answer; a request without a body then goes once more on a fresh one.
    private func exchange<Body>(_ pool: UpstreamConnectionPool, head: HTTPRequestHead, body: UpstreamBody<Body>?) async throws -> UpstreamResponse {
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try await pool.lease()
            let channel = connection.channel
            let eventLoop = channel.eventLoop
            let answer = eventLoop.flatSubmit {
                let answer = connection.handler.begin(on: eventLoop)
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                if body == nil { channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil) } else { channel.flush() }
                return answer
            }
            let upload = body.map { UploadOutcome.start($0, on: channel) }
            do {
                let received = try await answer.get()
                return UpstreamResponse(status: received.head.status, headers: received.head.headers, body: received.body)
            } catch UpstreamConnectionError.closed where reused && body == nil && attempt == 1 {
                continue
            } catch {
                // The upload closes the connection when the caller's body fails, which fails the answer too.
                if upload?.callerFailed == true { throw UpstreamConnectionError.callerBody }
                throw error
            }
        }
    }

    private static func classify(_ error: any Error) -> ProxyFailure {
        switch error {
        case is CancellationError: .callerBody
        case let error as UpstreamConnectionError:
            switch error {
            case .readTimeout: .timeout
            case .closed, .malformedAnswer: .upstreamError
            case .connect: .connectionFailed
            case .callerBody: .callerBody
            }
        default: .upstreamError
        }
    }
}

/// An upstream's answer: status, headers and a streamed body.
package struct UpstreamResponse: Sendable {
    package let status: HTTPResponseStatus
    package let headers: HTTPHeaders
    package let body: UpstreamResponseBody
}
