import AsyncHTTPClient
import HTTPTypes
import NIOCore
import NIOHTTP1
import TollgateConfiguration
import TollgateKit

/// What the proxy reports for metrics.
public protocol UpstreamObserver: Sendable {
    func upstreamAnswered(server: String, status: Int, seconds: Double)
}

/// Why a proxied request got no upstream answer. The server maps these onto seed-004 codes.
public enum ProxyFailure: Error, Equatable {
    case unknownServer
    case badPath
    case tooLarge
    case token(TokenFetchError)
    case connectionFailed
    case timeout
    case upstreamError
}

/// A caller's request body as it crosses into the proxy: any stream of bytes, and its declared length.
public struct UpstreamBody<Stream: AsyncSequence & Sendable>: Sendable where Stream.Element == ByteBuffer {
    public let stream: Stream
    public let length: Int?

    public init(stream: Stream, length: Int?) {
        self.stream = stream
        self.length = length
    }
}

/// The token-injecting reverse proxy: the caller's request goes to the server's `url` plus the
/// caller's path, with only allowlisted headers and a fresh `Authorization: Bearer`; bodies are
/// streamed both ways, never buffered.
public final class UpstreamProxy: Sendable {
    private let servers: OutboundServers
    private let allowlist: Set<String>
    /// `proxy.max_body_bytes` (0: unlimited); streamed bodies are held to it by the caller's side.
    public let maxBodyBytes: Int
    private let observer: any UpstreamObserver

    public init(servers: OutboundServers, config: ProxyConfig, observer: any UpstreamObserver) {
        self.servers = servers
        self.allowlist = Set(config.forwardRequestHeaders.map { $0.lowercased() })
        self.maxBodyBytes = config.maxBodyBytes
        self.observer = observer
    }

    /// Whether a request carries a body, by its headers (RFC 9112 §6.3), and its declared length.
    public static func declaredBody(_ headers: HTTPFields) -> (present: Bool, length: Int?) {
        let length = headers[.contentLength].flatMap(Int.init)
        return (length.map { $0 > 0 } ?? (headers[.transferEncoding] != nil), length)
    }

    public func forward<Body>(
        server name: String, method: HTTPRequest.Method, path: Substring, query: String?,
        headers incoming: HTTPFields, body openBody: (@Sendable () -> UpstreamBody<Body>)?, requestID: String
    ) async -> Result<HTTPClientResponse, ProxyFailure> {
        guard let server = servers[name] else { return .failure(.unknownServer) }
        let url: String
        do { url = try ProxyTarget.url(base: server.url, path: path, query: query) } catch { return .failure(.badPath) }
        let declaredLength = Self.declaredBody(incoming).length
        if maxBodyBytes > 0, let declaredLength, declaredLength > maxBodyBytes { return .failure(.tooLarge) }

        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.rawValue)
        request.headers = ProxyHeaders.upstreamRequestHeaders(from: incoming, allowlist: allowlist)
        request.headers.add(name: "X-Request-Id", value: requestID)
        var token: AccessToken
        switch await server.tokens.token() {
        case .success(let held): token = held
        case .failure(let error): return .failure(.token(error))
        }
        // The caller's body is opened only now, when it is certain to be sent.
        if let body = openBody?() {
            request.body = .stream(body.stream, length: body.length.map { .known(Int64($0)) } ?? .unknown)
        }
        var retried = false
        while true {
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer " + token.value)
            let started = ContinuousClock.now
            let response: HTTPClientResponse
            do {
                response = try await server.upstream.execute(request, deadline: .distantFuture)
            } catch {
                return .failure(Self.classify(error))
            }
            observer.upstreamAnswered(server: name, status: Int(response.status.code), seconds: (ContinuousClock.now - started).seconds)
            // A 401 before expiry means the token was revoked or the peer's keys moved: one fresh
            // token, one retry, and only for requests that are safe to repeat and carry no body.
            guard response.status == .unauthorized, !retried, openBody == nil, method == .get || method == .head else { return .success(response) }
            server.tokens.invalidate(token)
            guard case .success(let fresh) = await server.tokens.token(), fresh != token else { return .success(response) }
            _ = try? await response.body.collect(upTo: 1 << 16)
            token = fresh
            retried = true
        }
    }

    private static func classify(_ error: any Error) -> ProxyFailure {
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .deadlineExceeded: return .timeout
            case .connectTimeout: return .connectionFailed
            case .remoteConnectionClosed: return .upstreamError
            default: break
            }
        }
        return String(describing: error).lowercased().contains("connect") ? .connectionFailed : .upstreamError
    }
}
