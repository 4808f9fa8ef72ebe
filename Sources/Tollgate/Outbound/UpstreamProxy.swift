import AsyncHTTPClient
import HTTPTypes
import Hummingbird
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

/// An upstream answer whose body is still to be streamed to the caller, and the upload that
/// must be over before the caller's connection is read again.
struct ProxiedAnswer: Sendable {
    let response: HTTPClientResponse
    let upload: UploadPump?
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
    ) async -> Result<ProxiedAnswer, ProxyFailure> where Body.Element == ByteBuffer {
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
        let http = clients.client(caFile: source.config.tls.caFile)
        var token: AccessToken
        switch await source.token() {
        case .success(let held): token = held
        case .failure(let error): return .failure(.token(error))
        }
        let upload = hasBody ? UploadPump(body: body, limit: maxBodyBytes) : nil
        if let upload {
            request.body = .stream(upload.forwarded, length: declaredLength.map { .known(Int64($0)) } ?? .unknown)
        }
        var retried = false
        while true {
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer " + token.value)
            let started = ContinuousClock.now
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: .distantFuture)
            } catch {
                let exceeded = await upload?.abandon() ?? false
                return .failure(exceeded ? .tooLarge : Self.classify(error))
            }
            let elapsed = ContinuousClock.now - started
            observer.upstreamAnswered(server: name, status: Int(response.status.code),
                                      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            // A 401 before expiry means the token was revoked or the peer's keys moved: one fresh
            // token, one retry, and only for requests that are safe to repeat and carry no body.
            let answer = ProxiedAnswer(response: response, upload: upload)
            guard response.status == .unauthorized, !retried, !hasBody, method == .get || method == .head else { return .success(answer) }
            source.invalidate(token)
            guard case .success(let fresh) = await source.token(), fresh != token else { return .success(answer) }
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

/// Feeds the caller's body to the upstream client from a task Tollgate owns. Hummingbird reads
/// the next request from the same connection once the response is written, so nothing may
/// still be reading this body by then: `finish` drains what the upstream did not want (it may
/// answer before reading everything), `abandon` stops at once and the connection is closed.
final class UploadPump: Sendable {
    struct Exceeded: Error {}

    /// What the upstream client reads, with backpressure towards the caller.
    let forwarded: RequestBody
    private let task: Task<Bool, Never>

    init<Body: AsyncSequence & Sendable>(body: Body, limit: Int) where Body.Element == ByteBuffer {
        let (forwarded, source) = RequestBody.makeStream()
        self.forwarded = forwarded
        task = Task {
            var seen = 0
            do {
                for try await chunk in body {
                    seen += chunk.readableBytes
                    if limit > 0 && seen > limit {
                        source.finish(Exceeded())
                        return true
                    }
                    // Once the upstream client has let go of the stream this returns at once.
                    await source.yield(chunk)
                }
                source.finish()
            } catch {
                source.finish(error)
            }
            return false
        }
    }

    /// Waits until the caller's body has been read to its end.
    func finish() async { _ = await task.value }

    /// Stops reading the caller's body. Returns whether it had grown past the limit.
    func abandon() async -> Bool {
        task.cancel()
        return await task.value
    }
}
