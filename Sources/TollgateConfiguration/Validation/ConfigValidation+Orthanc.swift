import Foundation
package import TollgateKit
extension TollgateConfig {
    /// The methods and levels the orthanc-authorization protocol speaks of.
    package static let orthancMethods: Set<String> = ["get", "post", "put", "delete"]
    package static let orthancLevels: Set<String> = ["system", "patient", "study", "series", "instance"]

    /// Problems in `orthanc`, each naming its key path.
    func orthancValidationErrors(fileExists: (String) -> Bool, readFile: (String) -> Data?) -> [ConfigError] {
        var problems = ConfigProblems()
        problems.check(
            (orthanc.webserviceUsername == nil) == (orthanc.webservicePassword == nil), "orthanc.webservice_username",
            "set webservice_username and webservice_password together")
        problems.check((orthanc.username == nil) == (orthanc.password == nil), "orthanc.username", "set username and password together")
        if let source = orthanc.bearerFrom {
            problems.check(outbound.servers[source] != nil, "orthanc.bearer_from", "no outbound server named \(source)")
            problems.check(outbound.servers[source]?.dpop != true, "orthanc.bearer_from", Self.dpopNotPushable(source))
            problems.check(orthanc.username == nil, "orthanc.bearer_from", "use either bearer_from or username/password")
        }
        if orthanc.auth == .basic {
            problems.check(
                orthanc.webserviceUsername == nil || !(orthanc.webserviceUsername ?? "").contains(":"), "orthanc.webservice_username", "must not contain ':'")
        }
        if let permissions = orthanc.permissions {
            problems.errors += orthancPermissionsErrors(permissions, readFile: readFile)
        }
        problems.errors += shareTokenErrors(orthanc.shareTokens, readFile: readFile)
        problems.check(
            orthanc.dicomWebRoot.hasPrefix("/") && orthanc.dicomWebRoot.hasSuffix("/") && orthanc.dicomWebRoot.count >= 2
                && !orthanc.dicomWebRoot.contains("//")
                && orthanc.dicomWebRoot.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && !"?#%".unicodeScalars.contains($0) },
            "orthanc.dicom_web_root", "must be a path like /dicom-web/ (leading and trailing '/')")
        if let url = orthanc.url {
            problems.check(Self.isHTTPURL(url), "orthanc.url", "must be an absolute http(s) URL")
        }
        problems.check(orthanc.url != nil || orthanc.dicomwebServers.isEmpty, "orthanc.url", "required when orthanc.dicomweb_servers is set")
        for (name, server) in orthanc.dicomwebServers.sorted(by: { $0.key < $1.key }) {
            let at = "orthanc.dicomweb_servers.\(name)"
            problems.check(Self.isValidServerName(name), at, "names must be 1-64 characters of A-Z, a-z, 0-9, '.', '-' or '_'")
            // With the registry on, a name that is not configured may be a GLOBAL runtime connection's.
            problems.check(
                outbound.servers[server.outboundServer] != nil || registry.enabled, "\(at).outbound_server",
                "no outbound server named \(server.outboundServer)")
            problems.check(outbound.servers[server.outboundServer]?.dpop != true, "\(at).outbound_server", Self.dpopNotPushable(server.outboundServer))
            if let url = server.url { problems.check(Self.isHTTPURL(url), "\(at).url", "must be an absolute http(s) URL") }
            for key in Self.tollgateDefinitionKeys where server.extra[key] != nil {
                problems.add("\(at).extra.\(key)", "set by Tollgate; remove it")
            }
            for (key, value) in server.extra.sorted(by: { $0.key < $1.key }) where !Self.tollgateDefinitionKeys.contains(key) {
                problems.check(Self.isOrthancDefinitionValue(key: key, value), "\(at).extra.\(key)", Self.orthancDefinitionRule(key))
            }
        }
        problems.check((1...3600).contains(orthanc.checkIntervalSeconds), "orthanc.check_interval_seconds", "must be between 1 and 3600")
        problems.check((1...60000).contains(orthanc.timeoutMS), "orthanc.timeout_ms", "must be between 1 and 60000")
        if let caFile = orthanc.tls.caFile { problems.check(fileExists(caFile), "orthanc.tls.ca_file", "file is not readable") }
        return problems.errors
    }
}

extension TollgateConfig {
    /// The keys of a DICOMweb definition Tollgate sets itself.
    package static let tollgateDefinitionKeys = ["Url", "HttpHeaders", "TollgateTokenExpires"]

    /// Orthanc's `WebServiceParameters`: `Timeout` is an unsigned integer, `Pkcs11` a boolean, the
    /// certificate keys strings; every other key is a user property: string, boolean or integer.
    package static func isOrthancDefinitionValue(key: String, _ value: JSONNode) -> Bool {
        switch (key, value) {
        case ("Timeout", .number): (value.integer ?? -1) >= 0
        case ("Timeout", _): false
        case ("Pkcs11", .bool): true
        case ("Pkcs11", _): false
        case ("Username", .string), ("Password", .string), ("CertificateFile", .string), ("CertificateKeyFile", .string), ("CertificateKeyPassword", .string):
            true
        case ("Username", _), ("Password", _), ("CertificateFile", _), ("CertificateKeyFile", _), ("CertificateKeyPassword", _): false
        case (_, .string), (_, .bool): true
        case (_, .number): value.integer != nil
        default: false
        }
    }

    package static func orthancDefinitionRule(_ key: String) -> String {
        switch key {
        case "Timeout": "must be a non-negative integer (seconds)"
        case "Pkcs11": "must be a boolean"
        case "Username", "Password", "CertificateFile", "CertificateKeyFile", "CertificateKeyPassword": "must be a string"
        default: "Orthanc accepts only a string, boolean or integer here"
        }
    }

    func orthancPermissionsErrors(_ permissions: OrthancPermissionsConfig, readFile: (String) -> Data?) -> [ConfigError] {
        var problems = ConfigProblems()
        let at = "orthanc.permissions"
        problems.check(!permissions.roleClaims.isEmpty, "\(at).role_claims", "list at least one claim path")
        for (index, path) in permissions.roleClaims.enumerated() {
            problems.check(Self.isClaimPath(path), "\(at).role_claims[\(index)]", "a claim name, or names joined by '.' (realm_access.roles)")
        }
        problems.check(Self.isClaimPath(permissions.groupsClaim), "\(at).groups_claim", "a claim name, or names joined by '.'")
        switch (permissions.roles, permissions.rolesFile) {
        case (.some, .some):
            problems.add("\(at).roles_file", "use either roles or roles_file")
        case (nil, nil):
            problems.add("\(at).roles", "map at least one role (or set roles_file)")
        case (let roles?, nil):
            problems.check(!roles.isEmpty, "\(at).roles", "map at least one role")
            problems.errors += OrthancRolesDocument.problems(roles: roles, availableLabels: permissions.availableLabels, at: "\(at).roles")
        case (nil, let file?):
            if let data = readFile(file) {
                if case .failure(let errors) = OrthancRolesDocument.parse(data, at: "\(at).roles_file") { problems.errors += errors.errors }
            } else {
                problems.add("\(at).roles_file", "file is not readable")
            }
            problems.check(permissions.availableLabels.isEmpty, "\(at).available_labels", "set available-labels inside roles_file")
        }
        let anonymous = permissions.anonymous
        for message in OrthancPermission.malformedNames(anonymous.permissions) { problems.add("\(at).anonymous.permissions", message) }
        problems.check((0...3600).contains(anonymous.validitySeconds), "\(at).anonymous.validity_seconds", "must be between 0 and 3600")
        problems.check((0...3600).contains(permissions.validitySeconds), "\(at).validity_seconds", "must be between 0 and 3600")
        if let table = permissions.table {
            for (index, rule) in table.enumerated() {
                let path = "\(at).table[\(index)]"
                guard rule.count == 3 else {
                    problems.add(path, #"each rule is [method, regex, "permission|permission"]"#)
                    continue
                }
                problems.check(Self.orthancMethods.contains(rule[0]), "\(path)[0]", "method must be get, post, put or delete")
                problems.check(rule[1] == "SINGLE_RESOURCE_PATTERNS" || (try? Regex(rule[1])) != nil, "\(path)[1]", "not a valid regular expression")
                for message in OrthancPermission.malformedNames(rule[2].split(separator: "|")) { problems.add("\(path)[2]", message) }
            }
        }
        return problems.errors
    }

    func shareTokenErrors(_ share: ShareTokensConfig, readFile: (String) -> Data?) -> [ConfigError] {
        var problems = ConfigProblems()
        let at = "orthanc.share_tokens"
        if let key = share.key {
            problems.check(share.keyFile == nil, "\(at).key", "set key or key_file, not both")
            problems.check(key.value.utf8.count >= 32, "\(at).key", "needs at least 32 bytes (e.g. openssl rand -base64 48)")
        }
        if let keyFile = share.keyFile {
            if let key = readFile(keyFile) {
                problems.check(key.count >= 32, "\(at).key_file", "needs at least 32 bytes of key material (e.g. openssl rand -out FILE 32)")
            } else {
                problems.add("\(at).key_file", "file is not readable")
            }
        }
        if let max = share.maxValiditySeconds {
            problems.check((60...3_162_240_000).contains(max), "\(at).max_validity_seconds", "must be between 60 and 3162240000 (100 years)")
        }
        if let lifetime = share.defaultValiditySeconds {
            problems.check(
                (1...(share.maxValiditySeconds ?? 3_162_240_000)).contains(lifetime), "\(at).default_validity_seconds",
                "must be between 1 and max_validity_seconds (or 3162240000)")
        }
        for (key, root) in [
            ("public_orthanc_root", share.publicOrthancRoot), ("public_ohif_root", share.publicOHIFRoot), ("public_landing_root", share.publicLandingRoot),
        ] {
            if let root { problems.check(Self.isHTTPURL(root), "\(at).\(key)", "must be an absolute http(s) URL") }
        }
        return problems.errors
    }

    static func isClaimPath(_ path: String) -> Bool {
        !path.isEmpty && path.count <= 256 && path.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty }
    }

    /// Orthanc settings that load but are probably not what the operator meant.
    var orthancWarnings: [ConfigError] {
        var warnings: [ConfigError] = []
        let routesOn = orthanc.auth == .none || orthanc.webserviceUsername != nil
        if routesOn && !orthanc.shareTokens.hasSharedKey {
            warnings.append(
                ConfigError(
                    path: "orthanc.share_tokens.key_file",
                    message:
                        "not set: share links are signed with a random key per process, so they stop working at every restart and a replica refuses the links another one made. Give every replica the same key: key_file, or key from a Secret (openssl rand -base64 48)"
                ))
        }
        if let permissions = orthanc.permissions {
            let at = "orthanc.permissions"
            for (name, role) in (permissions.roles ?? [:]).sorted(by: { $0.key < $1.key }) {
                for unused in OrthancPermission.unused(role.permissions, table: permissions.table) {
                    warnings.append(
                        ConfigError(
                            path: "\(at).roles.\(name).permissions",
                            message:
                                "\"\(unused)\" is not a permission of the plugin's default table or orthanc.permissions.table: it grants nothing unless the plugin's ExtraPermissions name it"
                        ))
                }
            }
            for unused in OrthancPermission.unused(permissions.anonymous.permissions, table: permissions.table) {
                warnings.append(
                    ConfigError(
                        path: "\(at).anonymous.permissions",
                        message:
                            "\"\(unused)\" is not a permission of the plugin's default table or orthanc.permissions.table: it grants nothing unless the plugin's ExtraPermissions name it"
                    ))
            }
        }
        return warnings
    }

    /// Orthanc sends a stored header with every request; a DPoP-bound token needs a fresh proof each time.
    static func dpopNotPushable(_ server: String) -> String {
        "outbound server \(server) has dpop: true; its token is bound to Tollgate's key and needs a fresh proof per request, which Orthanc cannot send: point the DICOMweb definition at Tollgate's /proxy/\(server)/ instead"
    }
}
