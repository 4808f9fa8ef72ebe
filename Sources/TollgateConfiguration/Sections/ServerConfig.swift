import TollgateKit
import Logging

public struct ServerConfig: Sendable, Decodable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var maxBodyBytes: Int = 65536
    /// On SIGTERM: stop accepting, let in-flight requests finish for up to this long, exit 0.
    public var shutdownGraceSeconds: Int = 25

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port
        case maxBodyBytes = "max_body_bytes"
        case shutdownGraceSeconds = "shutdown_grace_seconds"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        host = try c.decode(.host, default: host)
        port = try c.decode(.port, default: port)
        maxBodyBytes = try c.decode(.maxBodyBytes, default: maxBodyBytes)
        shutdownGraceSeconds = try c.decode(.shutdownGraceSeconds, default: shutdownGraceSeconds)
    }
}

public enum LogFormat: String, ConfigEnum { case json, text }

public struct LogConfig: Sendable, Decodable {
    public var level: Logger.Level = .info
    public var format: LogFormat = .json

    enum CodingKeys: String, CodingKey, CaseIterable { case level, format }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        if let raw: String = try c.decodeOptional(.level) {
            guard let parsed = Logger.Level(rawValue: raw) else {
                let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: " | ")
                throw ConfigError(path: c.codingPath + [CodingKeys.level], message: "must be one of \(allowed)")
            }
            level = parsed
        }
        format = try c.decode(.format, default: format)
    }
}
