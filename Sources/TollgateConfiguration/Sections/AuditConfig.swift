/// `audit:` — the audit trail: one record per access decision, administrative act and security
/// event, on a stream of its own (docs/audit.md). Off by default; `enabled: true` with no other
/// key writes JSON lines to stdout.
package struct AuditConfig: Sendable, Decodable {
    package enum Format: String, ConfigEnum {
        /// Tollgate's own versioned schema (docs/audit.schema.json).
        case json
        /// HL7 FHIR R4 AuditEvent resources, following IHE BALP.
        case fhir
    }

    package enum FailurePolicy: String, ConfigEnum {
        /// Count the loss, mark `/ready` failing, keep answering.
        case `continue`
        /// Refuse an allowed decision that cannot be recorded (503): fail closed.
        case deny
    }

    package var enabled: Bool = false
    package var format: Format = .json
    package var sinks: AuditSinksConfig = AuditSinksConfig()
    /// Share of allowed access decisions recorded, 0–1 (`true` is 1, `false` is 0). Denials,
    /// administrative acts and security events are always recorded.
    package var includeAllowed: Double = 1
    /// Routes (exact paths, or prefixes ending in `*`) whose allowed access decisions are not
    /// recorded: probes and hot forward-auth paths. Denials there are still recorded.
    package var excludeRoutes: [String] = []
    package var onFailure: FailurePolicy = .continue
    /// Records each sink holds while it cannot write (a syslog receiver down); beyond it they are counted as dropped.
    package var bufferEvents: Int = 10_000
    /// How long a sink may keep failing before `/ready` reports it.
    package var unreadyAfterSeconds: Int = 30

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, format, sinks
        case includeAllowed = "include_allowed"
        case excludeRoutes = "exclude_routes"
        case onFailure = "on_failure"
        case bufferEvents = "buffer_events"
        case unreadyAfterSeconds = "unready_after_seconds"
    }

    package init() {}

    /// The sinks records go to (stdout when none is named).
    package var sinkNames: [String] {
        let named = [sinks.stdout ? "stdout" : nil, sinks.file.map { _ in "file" }, sinks.syslog.map { "syslog-\($0.transport.rawValue)" }].compactMap { $0 }
        return named.isEmpty ? ["stdout"] : named
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        format = try c.decode(.format, default: format)
        sinks = try c.decode(.sinks, default: sinks)
        includeAllowed = try c.decode(.includeAllowed, default: SampleShare(includeAllowed)).value
        excludeRoutes = try c.decode(.excludeRoutes, default: excludeRoutes)
        onFailure = try c.decode(.onFailure, default: onFailure)
        bufferEvents = try c.decode(.bufferEvents, default: bufferEvents)
        unreadyAfterSeconds = try c.decode(.unreadyAfterSeconds, default: unreadyAfterSeconds)
    }
}

/// A share written as a number 0–1 or as `true` (1) / `false` (0).
struct SampleShare: Decodable {
    let value: Double

    init(_ value: Double) { self.value = value }

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let flag = try? single.decode(Bool.self) {
            value = flag ? 1 : 0
        } else if let number = try? single.decode(Double.self) {
            value = number
        } else {
            throw ConfigError(path: decoder.codingPath, message: "must be true, false or a number between 0 and 1")
        }
    }
}

/// `audit.sinks`: any combination; none named means stdout.
package struct AuditSinksConfig: Sendable, Decodable {
    package var stdout: Bool = false
    package var file: AuditFileSinkConfig?
    package var syslog: AuditSyslogSinkConfig?

    enum CodingKeys: String, CodingKey, CaseIterable { case stdout, file, syslog }

    package init(stdout: Bool = false, file: AuditFileSinkConfig? = nil, syslog: AuditSyslogSinkConfig? = nil) {
        self.stdout = stdout
        self.file = file
        self.syslog = syslog
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        stdout = try c.decode(.stdout, default: false)
        file = try c.decodeOptional(.file)
        syslog = try c.decodeOptional(.syslog)
    }

    /// Whether any sink is named; with none, the trail writes to stdout.
    package var isEmpty: Bool { !stdout && file == nil && syslog == nil }
}

/// `audit.sinks.file`: an append-only file, reopened on SIGHUP (after logrotate moved it).
package struct AuditFileSinkConfig: Sendable, Decodable {
    package var path: String
    /// The file's permission bits, octal as a string ("0600"): set when it is created or reopened.
    package var mode: String = "0600"

    enum CodingKeys: String, CodingKey, CaseIterable { case path, mode }

    package init(path: String, mode: String = "0600") {
        self.path = path
        self.mode = mode
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        path = try c.decode(.path)
        mode = try c.decode(.mode, default: mode)
    }

    /// `mode` as permission bits, when it is an octal number of at most 0777.
    package var permissions: UInt16? {
        guard !mode.isEmpty, mode.count <= 4, let bits = UInt16(mode, radix: 8), bits <= 0o777 else { return nil }
        return bits
    }
}

/// `audit.sinks.syslog`: RFC 5424 messages to a receiver over UDP, TCP or TLS (RFC 5425).
package struct AuditSyslogSinkConfig: Sendable, Decodable {
    package enum Transport: String, ConfigEnum {
        case udp, tcp, tls
    }

    package var transport: Transport = .tls
    /// `host:port` (`[v6]:port`) of the receiver.
    package var address: String
    /// Facility name (RFC 5424 §6.2.1): auth, authpriv, security… local0–local7.
    package var facility: String = "authpriv"
    package var appName: String = "tollgate"
    /// PEM CA bundle the receiver's certificate must chain to (tls; the system roots otherwise).
    package var caFile: String?
    /// Client certificate and key (PEM) for receivers that require one (tls).
    package var certFile: String?
    package var keyFile: String?
    /// The name checked in the receiver's certificate; the address's host otherwise.
    package var serverName: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case transport, address, facility
        case appName = "app_name"
        case caFile = "ca_file"
        case certFile = "cert_file"
        case keyFile = "key_file"
        case serverName = "server_name"
    }

    package init(transport: Transport = .tls, address: String, facility: String = "authpriv", caFile: String? = nil) {
        self.transport = transport
        self.address = address
        self.facility = facility
        self.caFile = caFile
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        transport = try c.decode(.transport, default: transport)
        address = try c.decode(.address)
        facility = try c.decode(.facility, default: facility)
        appName = try c.decode(.appName, default: appName)
        caFile = try c.decodeOptional(.caFile)
        certFile = try c.decodeOptional(.certFile)
        keyFile = try c.decodeOptional(.keyFile)
        serverName = try c.decodeOptional(.serverName)
    }

    /// RFC 5424 §6.2.1 facility codes by name.
    package static let facilities: [String: Int] = [
        "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8, "cron": 9,
        "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14, "local0": 16, "local1": 17, "local2": 18,
        "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
    ]

    /// The address split into host and port, when it is `host:port` or `[v6]:port` with a port 1–65535.
    package var endpoint: (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        return (host, port)
    }
}
