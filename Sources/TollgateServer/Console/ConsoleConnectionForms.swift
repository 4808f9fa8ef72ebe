import Foundation
import TollgateKit
import TollgateRegistry

/// The connection forms: which fields each flow asks for, and a submitted form turned into the
/// very body the API takes, so that it is read by the API's own decoder (`ConnectionRequest`) and
/// refused with the API's own messages.
enum ConsoleConnectionForms {
    struct Field {
        let name: String
        let label: String
        var type = "text"
        var required = false
        var hint: String? = nil
        var choices: [String] = []
        var multiline = false
        /// A secret: never filled in, and only sent when typed.
        var secret: Bool { type == "password" || multiline }
    }

    static let flows: [(flow: ConnectionFlow, label: String, explanation: String)] = [
        (
            .authorizationCode, "Authorization code (a person signs in at the IdP)",
            "Create it, then press Connect on its page: you sign in at the IdP and come back here. Tollgate keeps the refresh token and renews the access token."
        ),
        (.clientCredentials, "Client credentials (a service account)", "Tollgate asks the token endpoint for a token with the client's own credentials."),
        (
            .refreshToken, "Refresh token (obtained elsewhere)",
            "Paste a refresh token the IdP issued to this client; Tollgate exchanges it at once and keeps renewing."
        ),
    ]

    static func fields(for flow: ConnectionFlow, editing: Bool = false) -> [Field] {
        var fields: [Field] = []
        if !editing {
            fields.append(
                Field(
                    name: "connection_name", label: "Connection name", required: true,
                    hint: "1–64 of A–Z, a–z, 0–9, '.', '-', '_'; how /proxy and the API name it"))
        }
        fields += [
            Field(name: "name", label: "Display name"),
            Field(name: "description", label: "Description"),
            Field(name: "client_id", label: "Client ID", required: !editing),
            Field(
                name: "client_secret", label: "Client secret", type: "password",
                hint: editing ? "empty: keep the sealed one" : "not needed for auth method none or private_key_jwt"),
            Field(
                name: "auth_method", label: "Client authentication",
                choices: flow == .clientCredentials
                    ? ["client_secret_basic", "client_secret_post", "private_key_jwt"]
                    : ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"]),
            Field(name: "token_url", label: "Token endpoint URL", type: "url", required: !editing),
        ]
        if flow == .authorizationCode {
            fields += [
                Field(name: "authorization_url", label: "Authorization endpoint URL", type: "url", required: !editing),
                Field(name: "issuer", label: "Issuer", type: "url", hint: "needed with the openid scope: the ID token is checked against it"),
                Field(name: "redirect_uri", label: "Redirect URI", type: "url", hint: "empty: registry.callback_base_url + /oauth/callback/<name>"),
            ]
        }
        if flow == .refreshToken {
            fields.append(Field(name: "refresh_token", label: "Refresh token", type: "password", required: !editing))
        }
        fields += [
            Field(name: "scopes", label: "Scopes", hint: "space-separated"),
            Field(name: "resource", label: "Resource (RFC 8707)", type: "url"),
            Field(name: "url", label: "DICOMweb base URL", type: "url", hint: "what /proxy/<name>/ forwards to"),
            Field(name: "private_key", label: "Private key (PEM)", hint: "for private_key_jwt only", multiline: true),
            Field(name: "key_id", label: "Key ID (kid)", hint: "for private_key_jwt only"),
            Field(name: "revocation_url", label: "Revocation endpoint URL", type: "url"),
        ]
        return fields
    }

    /// The template's view of `fields`, filled from `values` (secrets never).
    static func rendered(_ fields: [Field], values: [String: String], idPrefix: String) -> [[String: Any]] {
        fields.map { field in
            var out: [String: Any] = [
                "name": field.name, "label": field.label, "id": idPrefix + "-" + field.name, "type": field.type, "required": field.required,
                "multiline": field.multiline, "select": !field.choices.isEmpty,
                "value": field.secret ? "" : values[field.name] ?? "",
            ]
            if let hint = field.hint { out["hint"] = hint }
            if !field.choices.isEmpty {
                let chosen = values[field.name] ?? field.choices[0]
                out["choices"] = field.choices.map { ["value": $0, "selected": $0 == chosen] as [String: Any] }
            }
            return out
        }
    }

    /// The API body for what the form says: every known field that is not empty.
    static func body(_ form: [String: String], flow: ConnectionFlow?) -> Data {
        let known = Set(ConnectionRequest.Field.allCases.map(\.rawValue))
        var members: [(String, JSONText.Value)] = []
        for (name, value) in form.sorted(by: { $0.key < $1.key }) where known.contains(name) && name != "orthanc_push" {
            let trimmed = name == "private_key" ? value : value.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { members.append((name, .string(trimmed))) }
        }
        if let flow, form["oauth_flow_type"] == nil { members.append(("oauth_flow_type", .string(flow.rawValue))) }
        return Data(JSONText.object(members).utf8)
    }

    /// The form's values for a connection as it is (no secrets).
    static func values(of view: ConnectionView) -> [String: String] {
        let settings = view.settings
        var values: [String: String] = [
            "client_id": settings.clientID, "token_url": settings.tokenURL, "scopes": settings.scopes, "auth_method": settings.authMethod.rawValue,
        ]
        values["authorization_url"] = settings.authorizationURL
        values["issuer"] = settings.issuer
        values["redirect_uri"] = settings.redirectURI
        values["resource"] = settings.resource
        values["url"] = settings.url
        values["name"] = settings.displayName
        values["description"] = settings.description
        values["key_id"] = settings.keyID
        values["revocation_url"] = settings.revocationURL
        return values
    }
}
