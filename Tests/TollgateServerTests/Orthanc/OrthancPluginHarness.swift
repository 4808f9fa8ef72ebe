import Foundation
import NIOHTTP1
@testable import TollgateServer
import TollgateConfiguration
import TollgateKit

/// Tollgate configured as the authorization plugin's web service, with one role per plugin
/// permission (`p-<permission>`) and a few realistic ones, read from Keycloak's claim paths.
enum OrthancPluginHarness {
    static let credentials = "Basic " + Data("orthanc:ws-secret".utf8).base64EncodedString()
    /// What the plugin sends on every call: JSON and its Basic credentials.
    static let headers = [("Content-Type", "application/json"), ("Authorization", credentials)]

    static var roles: [String: OrthancRole] {
        var roles = Dictionary(uniqueKeysWithValues: OrthancPermission.all.map { ("p-\($0)", OrthancRole(permissions: [$0])) })
        roles["doctor"] = OrthancRole(permissions: ["view", "download", "share"], authorizedLabels: ["*"])
        roles["external"] = OrthancRole(permissions: ["view"], authorizedLabels: ["public"])
        return roles
    }

    static func start(_ forge: TokenForge, _ adjust: @escaping (inout TollgateConfig) -> Void = { _ in }) async throws -> RunningTollgate {
        try await JWTTests.start(forge) { config in
            config.orthanc.webserviceUsername = "orthanc"
            config.orthanc.webservicePassword = Secret("ws-secret")
            var permissions = OrthancPermissionsConfig(roleClaims: ["realm_access.roles", "resource_access.orthanc-ui.roles"], roles: roles)
            permissions.anonymous.permissions = ["upload"]
            config.orthanc.permissions = permissions
            config.orthanc.shareTokens.publicOrthancRoot = "https://pacs.example.org/orthanc/"
            adjust(&config)
        }
    }

    /// A Keycloak-shaped access token holding `roles` in `realm_access.roles`.
    static func user(_ forge: TokenForge, _ tg: RunningTollgate, roles: [String], claims: [String: Any?] = [:]) -> String {
        var all: [String: Any?] = ["realm_access": ["roles": roles], "sub": "user-\(roles.joined(separator: "+"))"]
        for (key, value) in claims { all[key] = value }
        return forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: tg.clock.now(), claims: all)
    }

    static func call(_ tg: RunningTollgate, _ path: String, _ body: [String: Any?], method: HTTPMethod = .POST) async throws -> RunningTollgate.Answer {
        let data = try JSONSerialization.data(withJSONObject: body.mapValues { $0 ?? NSNull() })
        return try await tg.send(path, method: method, headers: headers, body: Array(data))
    }

    /// A share token as OE2 asks the plugin for one (`PUT /auth/tokens/{type}` → `PUT ROOT/tokens/{type}`).
    static func share(
        _ tg: RunningTollgate, type: String = "stone-viewer-publication", study: (uid: String, id: String),
        serverID: String? = "orthanc-a", validity: Int? = 3600
    ) async throws -> RunningTollgate.Answer {
        try await call(
            tg, "/tokens/\(type)",
            [
                "id": nil, "server-id": serverID, "type": type, "expiration-date": nil, "validity-duration": validity,
                "resources": [["dicom-uid": study.uid, "orthanc-id": study.id, "level": "study", "url": nil]],
            ], method: .PUT)
    }

    /// The 1.10 filter's question.
    static func authorize(
        _ tg: RunningTollgate, _ method: String, _ uri: String, tokens: [String], get: [String: String] = [:],
        resources: [[String: Any]] = [], labels: [String]? = nil
    ) async throws -> RunningTollgate.Answer {
        var body: [String: Any?] = ["method": method, "uri": uri, "tokens": tokens, "get": get, "resources": resources, "server-id": nil]
        if let labels { body["labels"] = labels }
        return try await call(tg, "/orthanc/authorize", body)
    }
}
