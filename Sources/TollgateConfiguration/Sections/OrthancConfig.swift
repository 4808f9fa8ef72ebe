import TollgateKit

/// `orthanc:` — the Orthanc-facing pieces: the orthanc-authorization web-service protocol
/// (inbound) and pushing outbound tokens into Orthanc's DICOMweb server definitions.
public struct OrthancConfig: Sendable, Decodable {
    /// Basic credentials Orthanc's authorization plugin (or the filter) must present to
    /// `/tokens/*` and `/user/get-profile`; none: open.
    public var webserviceUsername: String?
    public var webservicePassword: Secret?
    /// Absent: every valid token is granted every method (authentication only).
    public var permissions: PermissionsConfig?
    /// Orthanc's REST API, for pushing DICOMweb server definitions.
    public var url: String?
    public var username: String?
    public var password: Secret?
    /// For an Orthanc guarded by Tollgate's own filter: authenticate pushes with a bearer token
    /// from this outbound server (whose client may `put`) instead of Basic credentials.
    public var bearerFrom: String?
    public var dicomwebServers: [String: OrthancDicomWebServerConfig] = [:]
    /// How often Orthanc is checked for lost or stale definitions (it persists none across restarts).
    public var checkIntervalSeconds: Int = 10
    public var timeoutMS: Int = 5000
    /// `/ready` also waits for every definition to be pushed.
    public var readyRequiresPush: Bool = false
    public var tls = TLSConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case permissions, url, username, password, tls
        case webserviceUsername = "webservice_username"
        case webservicePassword = "webservice_password"
        case dicomwebServers = "dicomweb_servers"
        case bearerFrom = "bearer_from"
        case checkIntervalSeconds = "check_interval_seconds"
        case timeoutMS = "timeout_ms"
        case readyRequiresPush = "ready_requires_push"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        webserviceUsername = try c.decodeOptional(.webserviceUsername)
        webservicePassword = try c.decodeOptional(.webservicePassword)
        permissions = try c.decodeOptional(.permissions)
        url = try c.decodeOptional(.url)
        username = try c.decodeOptional(.username)
        password = try c.decodeOptional(.password)
        bearerFrom = try c.decodeOptional(.bearerFrom)
        dicomwebServers = try c.decode(.dicomwebServers, default: dicomwebServers)
        checkIntervalSeconds = try c.decode(.checkIntervalSeconds, default: checkIntervalSeconds)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
        readyRequiresPush = try c.decode(.readyRequiresPush, default: readyRequiresPush)
        tls = try c.decode(.tls, default: tls)
    }
}

public enum RoleClaim: String, ConfigEnum { case scope, roles, groups }

/// Which Orthanc permissions a token holds, and which one each request needs.
public struct PermissionsConfig: Sendable, Decodable {
    /// Where a token's roles come from: its scopes, or its `roles` / `groups` claim.
    public var claim: RoleClaim = .scope
    /// Role (scope or claim value) → Orthanc permission names.
    public var roles: [String: [String]] = [:]
    /// Method (`get`) or level-qualified method (`study:delete`) → the permission it needs.
    /// Defaults to the method's own name, so `roles: {read: [get]}` reads naturally.
    public var required: [String: String] = ["get": "get", "post": "post", "put": "put", "delete": "delete"]
    /// Role → Orthanc labels it may see; a token with no listed role gets `["*"]`.
    public var labels: [String: [String]] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case claim, roles, required, labels }

    public init(claim: RoleClaim = .scope, roles: [String: [String]]) {
        self.claim = claim
        self.roles = roles
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        claim = try c.decode(.claim, default: claim)
        roles = try c.decode(.roles, default: roles)
        required = try c.decode(.required, default: required)
        labels = try c.decode(.labels, default: labels)
    }
}

/// One DICOMweb peer definition Tollgate keeps in Orthanc with a fresh bearer token.
public struct OrthancDicomWebServerConfig: Sendable, Decodable {
    /// The `outbound.servers` entry whose token is pushed.
    public var outboundServer: String
    /// The peer URL Orthanc calls (default: that outbound server's `url`).
    public var url: String?
    /// Further fields of the definition (`HasDelete`, `ChunkedTransfers`, …), pushed as given.
    public var extra: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, extra
        case outboundServer = "outbound_server"
    }

    public init(outboundServer: String, url: String? = nil, extra: [String: JSONValue] = [:]) {
        self.outboundServer = outboundServer
        self.url = url
        self.extra = extra
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        outboundServer = try c.decode(.outboundServer)
        url = try c.decodeOptional(.url)
        extra = try c.decode(.extra, default: extra)
    }
}
