extension TollgateConfig {
    /// Problems in `audit`, each naming its key path; checked even while it is off.
    func auditValidationErrors(fileExists: (String) -> Bool) -> [ConfigError] {
        var problems = ConfigProblems()
        problems.check((0...1).contains(audit.includeAllowed), "audit.include_allowed", "must be true, false or a number between 0 and 1")
        problems.check((1...1_000_000).contains(audit.bufferEvents), "audit.buffer_events", "must be between 1 and 1000000")
        problems.check((1...3600).contains(audit.unreadyAfterSeconds), "audit.unready_after_seconds", "must be between 1 and 3600")
        for (index, route) in audit.excludeRoutes.enumerated() {
            problems.check(
                route.hasPrefix("/") && !route.dropLast().contains("*") && !route.contains(" "), "audit.exclude_routes[\(index)]",
                "must be a path starting with / (a prefix when it ends in *)")
        }
        if let file = audit.sinks.file {
            problems.check(!file.path.isEmpty, "audit.sinks.file.path", "must not be empty")
            problems.check(file.permissions != nil, "audit.sinks.file.mode", "must be octal permission bits such as \"0600\" or \"0640\"")
            if let bits = file.permissions {
                problems.check(bits & 0o002 == 0, "audit.sinks.file.mode", "must not let every user write the audit file")
            }
        }
        if let syslog = audit.sinks.syslog {
            problems.check(syslog.endpoint != nil, "audit.sinks.syslog.address", "must be host:port (or [v6]:port) with a port 1–65535")
            problems.check(
                AuditSyslogSinkConfig.facilities[syslog.facility] != nil, "audit.sinks.syslog.facility",
                "must be one of \(AuditSyslogSinkConfig.facilities.keys.sorted().joined(separator: ", "))")
            problems.check(
                (1...48).contains(syslog.appName.utf8.count) && syslog.appName.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "audit.sinks.syslog.app_name",
                "must be 1–48 visible ASCII characters (RFC 5424 APP-NAME)")
            let tlsKeys: [(String, String?)] = [("ca_file", syslog.caFile), ("cert_file", syslog.certFile), ("key_file", syslog.keyFile)]
            for (key, path) in tlsKeys {
                guard let path else { continue }
                problems.check(syslog.transport == .tls, "audit.sinks.syslog.\(key)", "only used with transport tls")
                problems.check(fileExists(path), "audit.sinks.syslog.\(key)", "file is not readable")
            }
            problems.check(
                (syslog.certFile == nil) == (syslog.keyFile == nil), "audit.sinks.syslog.cert_file", "cert_file and key_file go together")
            if syslog.serverName != nil {
                problems.check(syslog.transport == .tls, "audit.sinks.syslog.server_name", "only used with transport tls")
            }
        }
        return problems.errors
    }
}
