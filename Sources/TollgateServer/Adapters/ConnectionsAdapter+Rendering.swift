import Foundation
import TollgateConfiguration
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// The JSON of the connection API: today's members and seed 002's side by side.
extension ConnectionsAdapter {
    static func render(_ view: ConnectionView) -> String {
        let record = view.record, settings = view.settings
        func optional(_ value: String?) -> JSONText.Value { value.map { .string($0) } ?? .null }
        let expiresAt = optional(record.expiresAt.map(timestamp))
        return JSONText.object([
            ("connection_name", .string(record.name)), ("name", .string(settings.displayName ?? record.name)),
            ("description", optional(settings.description)),
            ("organization", .string(record.organization)), ("org_id", .string(record.organization)),
            ("oauth_flow_type", .string(record.flow.rawValue)), ("client_id", .string(settings.clientID)),
            ("token_url", .string(URLRedaction.redacted(settings.tokenURL))),
            ("authorization_url", optional(settings.authorizationURL.map(URLRedaction.redacted))),
            ("scopes", .string(settings.scopes)), ("auth_method", .string(settings.authMethod.rawValue)), ("resource", optional(settings.resource)),
            ("key_id", optional(settings.keyID)), ("revocation_url", optional(settings.revocationURL.map(URLRedaction.redacted))),
            ("url", optional(settings.url.map(URLRedaction.redacted))),
            (
                "orthanc_push",
                settings.orthancPush.map { push in
                    .raw(JSONText.object([("name", .string(push.name)), ("extra", .raw(JSONNode.rendered(object: push.extra)))]))
                } ?? .null
            ),
            ("redirect_uri", optional(view.redirectURI)), ("issuer", optional(settings.issuer)),
            ("has_client_secret", .bool(view.hasClientSecret)), ("has_private_key", .bool(view.hasPrivateKey)),
            ("has_refresh_token", .bool(view.hasRefreshToken)),
            ("status", .string(record.status.rawValue)), ("status_message", optional(record.statusMessage)),
            ("generation", .int(record.generation)), ("expires_at", expiresAt), ("token_expires_at", expiresAt),
            ("last_refresh_at", optional(record.lastRefreshAt.map(timestamp))), ("last_test_at", optional(record.lastTestAt.map(timestamp))),
            ("created_at", .string(timestamp(record.createdAt))), ("created_by", .string(record.createdBy ?? "unknown")),
            ("updated_at", .string(timestamp(record.updatedAt))), ("read_only", .bool(false)),
        ])
    }

    /// A configured `outbound.servers` entry: listed, never changed through this API.
    static func render(_ server: OutboundServer) -> String {
        let status = server.status
        return JSONText.object([
            ("connection_name", .string(server.name)), ("organization", .null), ("oauth_flow_type", .string("client_credentials")),
            ("url", .string(status.url)), ("token_endpoint_host", .string(status.tokenEndpointHost)),
            ("status", .string(status.tokenValid ? "completed" : "not_connected")), ("read_only", .bool(true)),
        ])
    }

    /// Today's flat members (`access_token`, `expires_in`, `scope`) and seed 002's `credentials`
    /// object with its `status`; `refresh_token` only when the registry exposes it.
    static func render(_ token: ConnectionCredentials, name: String, refreshToken: String?) -> String {
        let expiresAt = timestamp(token.expiresAt)
        var inner: [(String, JSONText.Value)] = [
            ("connection_name", .string(name)), ("access_token", .string(token.accessToken)), ("token_type", .string("Bearer")),
            ("expires_at", .string(expiresAt)), ("scopes", .string(token.scope ?? "")),
        ]
        if let refreshToken { inner.append(("refresh_token", .string(refreshToken))) }
        return JSONText.object([
            ("connection_name", .string(name)), ("access_token", .string(token.accessToken)), ("token_type", .string("Bearer")),
            ("expires_in", .int(token.expiresIn)), ("expires_at", .string(expiresAt)), ("scope", token.scope.map { .string($0) } ?? .null),
            ("credentials", .raw(JSONText.object(inner))), ("status", .string("completed")),
        ])
    }

    static func render(_ dependency: ConnectionDependency) -> String {
        JSONText.object([
            ("dependent_id", .string(dependency.dependentID)), ("dependent_name", .string(dependency.dependentName)),
            ("created_at", .string(timestamp(dependency.createdAt))),
        ])
    }

    static func render(_ registered: ConnectionCatalog.WorkflowDependency) -> String {
        JSONText.object([
            ("workflow_id", .string(registered.workflowID)), ("connection_name", .string(registered.connectionName)),
            ("workflow_name", .string(registered.dependency.dependentName)),
            ("registered_at", .string(timestamp(registered.dependency.createdAt))),
        ])
    }

    static func timestamp(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds.isFinite ? seconds : 0).formatted(.iso8601)
    }
}
