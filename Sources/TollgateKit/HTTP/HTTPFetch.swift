package import AsyncHTTPClient
import Foundation
package import NIOCore
package import NIOHTTP1

/// The outcome classes every IdP call maps onto.
package enum FetchFailure: Error, Sendable {
    case timeout
    case unreachable
    case status(UInt)
    case unreadable

    /// A bounded label for spans and logs.
    package var label: String {
        switch self {
        case .timeout: "timeout"
        case .unreachable: "unreachable"
        case .status(let code): String(code)
        case .unreadable: "unreadable"
        }
    }
}

/// A whole (size-capped) answer from an IdP endpoint.
package struct FetchedResponse: Sendable {
    package let status: UInt
    package let headers: HTTPHeaders
    package let body: ByteBuffer
}

/// One bounded HTTP exchange with an IdP: timeout, size cap, and failures folded into `FetchFailure`.
package enum HTTPFetch {
    package static let maxResponseBytes = 1 << 20

    /// `call` names the exchange in its trace span (introspection, jwks, userinfo, token, …).
    package static func send(
        _ request: HTTPClientRequest, client: HTTPClient, timeout: TimeAmount, call: String
    ) async -> Result<FetchedResponse, FetchFailure> {
        var request = request
        let span = OutboundCallSpan.start(call, method: request.method.rawValue, url: request.url, headers: &request.headers)
        let result = await exchange(request, client: client, timeout: timeout)
        switch result {
        case .success(let response): span.end(status: Int(response.status))
        case .failure(let failure): span.end(failure: failure.label)
        }
        return result
    }

    private static func exchange(
        _ request: HTTPClientRequest, client: HTTPClient, timeout: TimeAmount
    ) async -> Result<FetchedResponse, FetchFailure> {
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: maxResponseBytes)
            return .success(FetchedResponse(status: UInt(response.status.code), headers: response.headers, body: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failure(.timeout)
        } catch is NIOTooManyBytesError {
            return .failure(.unreadable)
        } catch {
            return .failure(.unreachable)
        }
    }

    package static func formRequest(url: String, form: [(String, String)], credentials: ClientCredentials?) -> HTTPClientRequest {
        var form = form
        var headers = HTTPHeaders()
        credentials?.apply(headers: &headers, form: &form)
        return formRequest(url: url, form: form, headers: headers)
    }

    package static func formRequest(url: String, form: [(String, String)], headers: HTTPHeaders) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        var headers = headers
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Accept", value: "application/json")
        request.headers = headers
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        return request
    }
}
