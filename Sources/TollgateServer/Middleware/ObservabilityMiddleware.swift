import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// Request ids, per-route latency metrics and the error log line, for every route.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = TollgateRequestContext
    let metrics: TollgateMetrics
    let requestIDs: RequestIDs

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.acceptableID(request.headers[.xRequestID]) ?? requestIDs.next()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let started = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - started
            let (seconds, attos) = elapsed.components
            metrics.recordRequest(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status,
                nanoseconds: seconds * 1_000_000_000 + attos / 1_000_000_000
            )
        }
        do {
            var response = try await next(request, context)
            status = response.status.code
            response.headers[.xRequestID] = requestID
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            var response = try error.response(from: request, context: context)
            response.headers[.xRequestID] = requestID
            return response
        } catch {
            context.logger.error("unhandled error", metadata: ["error_type": .string("\(type(of: error))")])
            var response = Response(status: .internalServerError)
            response.headers[.xRequestID] = requestID
            return response
        }
    }

    /// Accepts caller ids of up to 128 visible ASCII characters; anything else is replaced.
    static func acceptableID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) else { return nil }
        return value
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}
