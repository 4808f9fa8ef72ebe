import TollgateKit
extension TollgateConfig {
    /// The methods and levels the orthanc-authorization protocol speaks of.
    public static let orthancMethods: Set<String> = ["get", "post", "put", "delete"]
    public static let orthancLevels: Set<String> = ["system", "patient", "study", "series", "instance"]

    /// Problems in `orthanc`, each naming its key path.
    func orthancValidationErrors(fileExists: (String) -> Bool) -> [ConfigError] {
        var problems = ConfigProblems()
        problems.check((orthanc.webserviceUsername == nil) == (orthanc.webservicePassword == nil), "orthanc.webservice_username",
              "set webservice_username and webservice_password together")
        problems.check((orthanc.username == nil) == (orthanc.password == nil), "orthanc.username", "set username and password together")
        if let source = orthanc.bearerFrom {
            problems.check(outbound.servers[source] != nil, "orthanc.bearer_from", "no outbound server named \(source)")
            problems.check(orthanc.username == nil, "orthanc.bearer_from", "use either bearer_from or username/password")
        }
        if let permissions = orthanc.permissions {
            problems.check(!permissions.roles.isEmpty, "orthanc.permissions.roles", "map at least one role to permissions")
            for key in permissions.required.keys.sorted() {
                let parts = key.split(separator: ":").map(String.init)
                let valid = parts.count == 1 ? Self.orthancMethods.contains(parts[0])
                    : parts.count == 2 && Self.orthancLevels.contains(parts[0]) && Self.orthancMethods.contains(parts[1])
                problems.check(valid, "orthanc.permissions.required.\(key)", "use a method (get post put delete) or level:method (levels: system patient study series instance)")
            }
        }
        if let url = orthanc.url {
            problems.check(Self.isHTTPURL(url), "orthanc.url", "must be an absolute http(s) URL")
        }
        problems.check(orthanc.url != nil || orthanc.dicomwebServers.isEmpty, "orthanc.url", "required when orthanc.dicomweb_servers is set")
        for (name, server) in orthanc.dicomwebServers.sorted(by: { $0.key < $1.key }) {
            let at = "orthanc.dicomweb_servers.\(name)"
            problems.check(Self.isValidServerName(name), at, "names must be 1-64 characters of A-Z, a-z, 0-9, '.', '-' or '_'")
            problems.check(outbound.servers[server.outboundServer] != nil, "\(at).outbound_server", "no outbound server named \(server.outboundServer)")
            if let url = server.url { problems.check(Self.isHTTPURL(url), "\(at).url", "must be an absolute http(s) URL") }
            for key in ["Url", "HttpHeaders"] where server.extra[key] != nil {
                problems.add("\(at).extra.\(key)", "set by Tollgate; remove it")
            }
        }
        problems.check((1...3600).contains(orthanc.checkIntervalSeconds), "orthanc.check_interval_seconds", "must be between 1 and 3600")
        problems.check((1...60000).contains(orthanc.timeoutMS), "orthanc.timeout_ms", "must be between 1 and 60000")
        if let caFile = orthanc.tls.caFile { problems.check(fileExists(caFile), "orthanc.tls.ca_file", "file is not readable") }
        return problems.errors
    }
}
