import AsyncHTTPClient
import HTTPTypes
import NIOCore
import NIOHTTP1

/// What the proxy reports for metrics.
public protocol UpstreamObserver: Sendable {
    func upstreamAnswered(server: String, status: Int, seconds: Double)
}

/// Why a proxied request got no upstream answer. The adapter maps these onto seed-004 codes.
enum ProxyFailure: Error, Equatable {
    case unknownServer
    case badPath
    case tooLarge
    case token(TokenFetchError)
    case connectionFailed
    case timeout
    case upstreamError
}

/// The token-injecting reverse proxy: the caller's request goes to the server's `url` plus the
/// caller's path, with only allowlisted headers and a fresh `Authorization: Bearer`; bodies are
/// streamed both ways, never buffered.
final class UpstreamProxy: Sendable {
    private let tokens: OutboundTokens
    private let clients: HTTPClients
    private let allowlist: Set<String>
    private let maxBodyBytes: Int
    private let observer: any UpstreamObserver

    init(tokens: OutboundTokens, clients: HTTPClients, config: ProxyConfig, observer: any UpstreamObserver) {
        self.tokens = tokens
        self.clients = clients
        self.allowlist = Set(config.forwardRequestHeaders.map { $0.lowercased() })
        self.maxBodyBytes = config.maxBodyBytes
        self.observer = observer
    }

    func forward<Body: AsyncSequence & Sendable>(
        server name: String, method: HTTPRequest.Method, path: Substring, query: String?,
        headers incoming: HTTPFields, body: Body, requestID: String
    ) async -> Result<HTTPClientResponse, ProxyFailure> where Body.Element == ByteBuffer {
        guard let source = tokens[name] else { return .failure(.unknownServer) }
        let url: String
        do { url = try ProxyTarget.url(base: source.config.url, path: path, query: query) } catch { return .failure(.badPath) }
        let declaredLength = incoming[.contentLength].flatMap(Int.init)
        if maxBodyBytes > 0, let declaredLength, declaredLength > maxBodyBytes { return .failure(.tooLarge) }
        let hasBody = declaredLength.map { $0 > 0 } ?? (incoming[.transferEncoding] != nil)

        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.rawValue)
        request.headers = ProxyHeaders.upstreamRequestHeaders(from: incoming, allowlist: allowlist)
        request.headers.add(name: "X-Request-Id", value: requestID)
        if hasBody {
            let limited = LimitedBody(base: body, limit: maxBodyBytes)
            request.body = .stream(limited, length: declaredLength.map { .known(Int64($0)) } ?? .unknown)
        }
        let http = clients.client(caFile: source.config.tls.caFile)

        var token: AccessToken
        switch await source.token() {
        case .success(let held): token = held
        case .failure(let error): return .failure(.token(error))
        }
        var retried = false
        while true {
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer " + token.value)
            let started = ContinuousClock.now
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: .distantFuture)
            } catch {
                return .failure(Self.classify(error))
            }
            let elapsed = ContinuousClock.now - started
            observer.upstreamAnswered(server: name, status: Int(response.status.code),
                                      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            // A 401 before expiry means the token was revoked or the peer's keys moved: one fresh
            // token, one retry, and only for requests that are safe to repeat and carry no body.
            guard response.status == .unauthorized, !retried, !hasBody, method == .get || method == .head else { return .success(response) }
            source.invalidate(token)
            guard case .success(let fresh) = await source.token(), fresh != token else { return .success(response) }
            _ = try? await response.body.collect(upTo: 1 << 16)
            token = fresh
            retried = true
        }
    }

    private static func classify(_ error: any Error) -> ProxyFailure {
        if error is any LimitExceededMarker { return .tooLarge }
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

/// Marker adopted by the body-limit error so the classifier needs no generic parameter.
protocol LimitExceededMarker: Error {}

/// Passes a body through, failing once it grows past `limit` bytes (0 = no limit).
struct LimitedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    struct Exceeded: LimitExceededMarker {}

    let base: Base
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += chunk.readableBytes
            if limit > 0 && seen > limit { throw Exceeded() }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}
