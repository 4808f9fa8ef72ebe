package import Logging

/// What `/ready` answers after start-up.
package enum ReadinessMode: String, ConfigEnum {
    /// A start-up gate (issuers up, required outbound tokens held), then only this replica's own
    /// faults: draining, a failing audit sink, the registry's store unreachable.
    case startup
    /// Every issuer and outbound token, all the time (before 0.7): an IdP outage takes every replica out.
    case continuous
}

package struct ServerConfig: Sendable, Decodable {
    package var host: String = "127.0.0.1"
    package var port: Int = 8080
    package var maxBodyBytes: Int = 65536
    /// On SIGTERM: `/ready` answers 503 at once and requests are still served for this long (the
    /// load balancer takes the pod out meanwhile), then the listener closes.
    package var shutdownDelaySeconds: Int = 5
    /// Then in-flight requests may finish for up to this long; exit 0. (`shutdown_grace_seconds`
    /// is its former name, still read.)
    package var shutdownTimeoutSeconds: Int = 25
    package var readiness: ReadinessMode = .startup
    /// A connection with no request in progress — silent, or stuck in an unfinished request head —
    /// is closed after this long; it also bounds how long a stalled proxy upload may hold a task.
    package var idleTimeoutSeconds: Int = 60
    /// Beyond this many open connections no more are accepted until one closes (the kernel's
    /// listen backlog holds the rest), so idle clients cannot exhaust file descriptors.
    package var maxConnections: Int = 4096
    /// HTTPS (and mTLS) when set; plain HTTP otherwise.
    package var tls: ServerTLSConfig?
    /// Forward-auth requests whose token is settled (refused for its shape, or a cached verdict)
    /// are answered on the connection's event loop, by the same code as the router's.
    package var eventLoopAnswers = true

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, tls
        case maxBodyBytes = "max_body_bytes"
        case shutdownGraceSeconds = "shutdown_grace_seconds"
        case shutdownDelaySeconds = "shutdown_delay_seconds"
        case shutdownTimeoutSeconds = "shutdown_timeout_seconds"
        case readiness
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case maxConnections = "max_connections"
        case eventLoopAnswers = "event_loop_answers"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        host = try c.decode(.host, default: host)
        port = try c.decode(.port, default: port)
        maxBodyBytes = try c.decode(.maxBodyBytes, default: maxBodyBytes)
        shutdownDelaySeconds = try c.decode(.shutdownDelaySeconds, default: shutdownDelaySeconds)
        let formerName: Int? = try c.decodeOptional(.shutdownGraceSeconds)
        shutdownTimeoutSeconds = try c.decode(.shutdownTimeoutSeconds, default: formerName ?? shutdownTimeoutSeconds)
        if formerName != nil && c.contains(.shutdownTimeoutSeconds) {
            let both = ConfigError(
                path: c.codingPath + [CodingKeys.shutdownGraceSeconds], message: "set shutdown_timeout_seconds only (shutdown_grace_seconds is its former name)"
            )
            guard let problems = DecodeProblems.current else { throw both }
            problems.record(both)
        }
        readiness = try c.decode(.readiness, default: readiness)
        idleTimeoutSeconds = try c.decode(.idleTimeoutSeconds, default: idleTimeoutSeconds)
        maxConnections = try c.decode(.maxConnections, default: maxConnections)
        tls = try c.decodeOptional(.tls)
        eventLoopAnswers = try c.decode(.eventLoopAnswers, default: eventLoopAnswers)
    }
}

package enum LogFormat: String, ConfigEnum { case json, text }

package struct LogConfig: Sendable, Decodable {
    package var level: Logger.Level = .info
    package var format: LogFormat = .json
    /// One line per request at info: method, route template, status, duration, request id, and
    /// for authentication routes the issuer alias and the decision reason (never the token).
    package var access: Bool = true

    enum CodingKeys: String, CodingKey, CaseIterable { case level, format, access }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        if let raw: String = try c.decodeOptional(.level) {
            guard let parsed = Logger.Level(rawValue: raw) else {
                let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: " | ")
                throw ConfigError(path: c.codingPath + [CodingKeys.level], message: "must be one of \(allowed)")
            }
            level = parsed
        }
        format = try c.decode(.format, default: format)
        access = try c.decode(.access, default: access)
    }
}
