package import TollgateKit

/// `orthanc:` — the Orthanc-facing pieces: the orthanc-authorization web-service protocol
/// (inbound) and pushing outbound tokens into Orthanc's DICOMweb server definitions.
package struct OrthancConfig: Sendable, Decodable {
    /// `basic`: the web-service routes (`/tokens/*`, `/user/get-profile`, `/settings/roles`,
    /// `/orthanc/authorize`) need `webservice_username`/`webservice_password`; `none` opens them.
    package var auth: OrthancWebServiceAuth = .basic
    package var webserviceUsername: String?
    package var webservicePassword: Secret?
    /// User profiles: roles → plugin permissions and labels. Absent: valid tokens hold no
    /// permission (only the anonymous profile and resource tokens grant anything).
    package var permissions: OrthancPermissionsConfig?
    package var shareTokens = ShareTokensConfig()
    /// Orthanc's DICOMweb root (`DicomWeb.Root`), for pushes and the permission table.
    package var dicomWebRoot = "/dicom-web/"
    /// Orthanc's REST API, for pushing DICOMweb server definitions.
    package var url: String?
    package var username: String?
    package var password: Secret?
    /// For an Orthanc guarded by Tollgate's own filter: authenticate pushes with a bearer token
    /// from this outbound server (whose client may `put`) instead of Basic credentials.
    package var bearerFrom: String?
    package var dicomwebServers: [String: OrthancDicomWebServerConfig] = [:]
    /// How often Orthanc is checked for lost or stale definitions (it persists none across restarts).
    package var checkIntervalSeconds: Int = 10
    package var timeoutMS: Int = 5000
    /// `/ready` also waits for every definition to be pushed.
    package var readyRequiresPush: Bool = false
    package var tls = TLSConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case auth, permissions, url, username, password, tls
        case shareTokens = "share_tokens"
        case dicomWebRoot = "dicom_web_root"
        case webserviceUsername = "webservice_username"
        case webservicePassword = "webservice_password"
        case dicomwebServers = "dicomweb_servers"
        case bearerFrom = "bearer_from"
        case checkIntervalSeconds = "check_interval_seconds"
        case timeoutMS = "timeout_ms"
        case readyRequiresPush = "ready_requires_push"
    }

    package init() {}

    /// Whether this config is meant to answer Orthanc (the authorization plugin or the filter):
    /// credentials, profiles or share links configured, or the routes opened on purpose.
    package var usesWebService: Bool {
        auth == .none || webserviceUsername != nil || permissions != nil || shareTokens.hasSharedKey
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        auth = try c.decode(.auth, default: auth)
        shareTokens = try c.decode(.shareTokens, default: shareTokens)
        dicomWebRoot = try c.decode(.dicomWebRoot, default: dicomWebRoot)
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

/// One DICOMweb peer definition Tollgate keeps in Orthanc with a fresh bearer token.
package struct OrthancDicomWebServerConfig: Sendable, Decodable {
    /// The `outbound.servers` entry whose token is pushed.
    package var outboundServer: String
    /// The peer URL Orthanc calls (default: that outbound server's `url`).
    package var url: String?
    /// Further fields of the definition (`HasDelete`, `ChunkedTransfers`, `Timeout`, …), pushed as given:
    /// strings, booleans or integers, as Orthanc accepts them.
    package var extra: [String: JSONNode] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, extra
        case outboundServer = "outbound_server"
    }

    package init(outboundServer: String, url: String? = nil, extra: [String: JSONNode] = [:]) {
        self.outboundServer = outboundServer
        self.url = url
        self.extra = extra
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        outboundServer = try c.decode(.outboundServer)
        url = try c.decodeOptional(.url)
        extra = try c.decode(.extra, default: extra)
    }
}

package enum OrthancWebServiceAuth: String, ConfigEnum { case basic, none }
