extension TollgateConfig {
    static let orthancMethods: Set<String> = ["get", "post", "put", "delete"]
    static let orthancLevels: Set<String> = ["system", "patient", "study", "series", "instance"]

    /// Problems in `orthanc`, each naming its key path.
    func orthancValidationErrors(fileExists: (String) -> Bool) -> [ConfigError] {
        var errors: [ConfigError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { errors.append(ConfigError(path: path, message: message)) }
        }
        check((orthanc.webserviceUsername == nil) == (orthanc.webservicePassword == nil), "orthanc.webservice_username",
              "set webservice_username and webservice_password together")
        check((orthanc.username == nil) == (orthanc.password == nil), "orthanc.username", "set username and password together")
        if let source = orthanc.bearerFrom {
            check(outbound.servers[source] != nil, "orthanc.bearer_from", "no outbound server named \(source)")
            check(orthanc.username == nil, "orthanc.bearer_from", "use either bearer_from or username/password")
        }
        if let permissions = orthanc.permissions {
            check(!permissions.roles.isEmpty, "orthanc.permissions.roles", "map at least one role to permissions")
            for key in permissions.required.keys.sorted() {
                let parts = key.split(separator: ":").map(String.init)
                let valid = parts.count == 1 ? Self.orthancMethods.contains(parts[0])
                    : parts.count == 2 && Self.orthancLevels.contains(parts[0]) && Self.orthancMethods.contains(parts[1])
                check(valid, "orthanc.permissions.required.\(key)", "use a method (get post put delete) or level:method (levels: system patient study series instance)")
            }
        }
        if let url = orthanc.url {
            check(Self.isHTTPURL(url), "orthanc.url", "must be an absolute http(s) URL")
        }
        check(orthanc.url != nil || orthanc.dicomwebServers.isEmpty, "orthanc.url", "required when orthanc.dicomweb_servers is set")
        for (name, server) in orthanc.dicomwebServers.sorted(by: { $0.key < $1.key }) {
            let at = "orthanc.dicomweb_servers.\(name)"
            check(Self.isValidServerName(name), at, "names must be 1-64 characters of A-Z, a-z, 0-9, '.', '-' or '_'")
            check(outbound.servers[server.outboundServer] != nil, "\(at).outbound_server", "no outbound server named \(server.outboundServer)")
            if let url = server.url { check(Self.isHTTPURL(url), "\(at).url", "must be an absolute http(s) URL") }
            for key in ["Url", "HttpHeaders"] where server.extra[key] != nil {
                errors.append(ConfigError(path: "\(at).extra.\(key)", message: "set by Tollgate; remove it"))
            }
        }
        check((1...3600).contains(orthanc.checkIntervalSeconds), "orthanc.check_interval_seconds", "must be between 1 and 3600")
        check((1...60000).contains(orthanc.timeoutMS), "orthanc.timeout_ms", "must be between 1 and 60000")
        if let caFile = orthanc.tls.caFile { check(fileExists(caFile), "orthanc.tls.ca_file", "file is not readable") }
        return errors
    }
}
