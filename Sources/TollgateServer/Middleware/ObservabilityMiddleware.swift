import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import Tracing

/// Request ids, per-route latency metrics, the access log, the audit record and the error log
/// line, for every route.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = TollgateRequestContext
    let metrics: TollgateMetrics
    let requestIDs: RequestIDs
    let accessLog: Bool
    let audit: AuditTrail?
    /// `forward_auth.trusted_proxies`: whose `X-Forwarded-For` names the client in an audit record.
    let trustedProxies: [IPNetwork]
    let tracing: RequestTracing
    /// The console's list of recent refusals, when the console is on.
    var denials: RecentDenials? = nil

    /// What `begin` set up for one request, for `finish`.
    struct Scope {
        let requestID: String
        let trace: RequestTracing.Trace?
        let note: AccessNote?
        let started: ContinuousClock.Instant
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let scope = begin(request, context: &context)
        var response: Response
        if let trace = scope.trace {
            response = await InstrumentationContext.$current.withValue(trace.context) { await answer(request, context: context, next: next) }
        } else {
            response = await answer(request, context: context, next: next)
        }
        finish(request, context: context, scope: scope, response: &response)
        return response
    }

    /// The request's id, trace and access note, before its route runs (on either path).
    func begin(_ request: Request, context: inout Context) -> Scope {
        let requestID = Self.acceptableID(request.headers[.xRequestID]) ?? requestIDs.next()
        context.requestID = requestID
        // One request-id field: Hummingbird's own key, holding Tollgate's id (the log handler names it request_id).
        context.logger[metadataKey: TollgateLogHandler.hummingbirdRequestID] = .string(requestID)
        let trace = tracing.begin(request, requestID: requestID)
        if let trace { context.logger[metadataKey: "trace_id"] = .string(trace.id) }
        let note = accessLog || audit != nil || denials != nil ? AccessNote(audits: audit != nil) : nil
        context.accessNote = note
        return Scope(requestID: requestID, trace: trace, note: note, started: ContinuousClock.now)
    }

    /// The ids on the answer, its audit record, metrics, trace span and access line (on either path).
    func finish(_ request: Request, context: Context, scope: Scope, response: inout some FinishedAnswer) {
        let (requestID, trace, note) = (scope.requestID, scope.trace, scope.note)
        if let trace { response.headers[.xTraceID] = trace.id }
        if let audit, let note,
            let event = auditEvent(request, context: context, status: response.status.code, note: note, requestID: requestID, traceID: trace?.id),
            !audit.record(event), audit.deniesUnrecorded, event.category == .access, event.outcome == .allowed
        {
            // on_failure: deny — an allowed decision the trail could not take is not given.
            context.logger.warning("audit record could not be queued (a sink's buffer is full): refusing an allowed decision (audit.on_failure: deny)")
            response.replace(with: Reply.unrecorded())
            if let trace { response.headers[.xTraceID] = trace.id }
        }
        response.headers[.xRequestID] = requestID
        let status = response.status.code
        let elapsed = ContinuousClock.now - scope.started
        let (seconds, attos) = elapsed.components
        let route = context.endpointPath
        let routeLabel = route ?? "unmatched"
        trace?.end(method: request.method.rawValue, route: route, status: status)
        metrics.recordRequest(
            route: routeLabel, method: request.method.rawValue, status: status,
            nanoseconds: seconds * 1_000_000_000 + attos / 1_000_000_000)
        if let denials, let decision = note?.decision { denials.record(decision, route: routeLabel, status: status, rule: note?.rule) }
        if accessLog, let note {
            Self.logAccess(
                context.logger, request: request, route: routeLabel, status: status, elapsed: elapsed, note: note,
                requestID: requestID, traceID: trace?.id)
        }
    }

    /// The route's answer; an error thrown on the way becomes its HTTP answer here, so that it is
    /// counted, logged and carries the ids like any other.
    private func answer(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPResponseError {
            do {
                return try error.response(from: request, context: context)
            } catch {
                return Response(status: .internalServerError)
            }
        } catch {
            context.logger.error("unhandled error", metadata: ["error_type": .string("\(type(of: error))")])
            return Response(status: .internalServerError)
        }
    }

    /// One line per request: never the path as sent (it may carry a token in a query), the route template instead.
    private static func logAccess(
        _ logger: Logger, request: Request, route: String, status: Int, elapsed: Duration, note: AccessNote,
        requestID: String, traceID: String?
    ) {
        let decision = note.decision
        let line = TollgateLogHandler.AccessLine(
            method: request.method.rawValue, route: route, status: status,
            durationMS: (elapsed.seconds * 1_000_000).rounded() / 1000, requestID: requestID,
            issuer: decision?.issuer, reason: decision?.reasonLabel, rule: note.rule, traceID: traceID, orthanc: note.orthanc
        )
        if let handler = logger.handler as? TollgateLogHandler {
            handler.writeAccess(line)
            return
        }
        var metadata: Logger.Metadata = [
            "method": .string(line.method), "route": .string(route), "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(line.durationMS),
        ]
        if let decision {
            metadata["issuer"] = .string(decision.issuer ?? "none")
            metadata["reason"] = .string(decision.reasonLabel)
        }
        if let rule = line.rule { metadata["rule"] = .string(rule) }
        for (name, value) in line.orthanc?.fields ?? [] { metadata[name] = .string(value) }
        if let traceID { metadata["trace_id"] = .string(traceID) }
        logger.info("request", metadata: metadata)
    }

    /// Accepts caller ids of up to 128 visible ASCII characters; anything else is replaced.
    static func acceptableID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") })
        else { return nil }
        return value
    }
}

/// An answer the middleware finishes: the router's `Response`, or the event-loop path's own.
protocol FinishedAnswer {
    var status: HTTPResponse.Status { get }
    var headers: HTTPFields { get set }
    mutating func replace(with answer: Answer)
}

extension Response: FinishedAnswer {
    mutating func replace(with answer: Answer) { self = answer.response }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}
