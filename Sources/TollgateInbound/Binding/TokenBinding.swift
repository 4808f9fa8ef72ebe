package import TollgateKit

/// A token's confirmation (`cnf`, RFC 7800), from its claims or its introspection answer: what the
/// presenter must prove besides holding the token. A token with one is never a bearer token.
package struct TokenBinding: Sendable, Equatable {
    /// RFC 9449 `jkt`: the base64url SHA-256 thumbprint (RFC 7638) of the DPoP key.
    package var keyThumbprint: String?
    /// RFC 8705 `x5t#S256`: the base64url SHA-256 of the client certificate's DER.
    package var certificateThumbprint: String?
    /// The member Tollgate cannot check (another confirmation method, or a member of the wrong
    /// type): such a token is refused.
    package var unsupported: String?

    package init(keyThumbprint: String? = nil, certificateThumbprint: String? = nil, unsupported: String? = nil) {
        self.keyThumbprint = keyThumbprint
        self.certificateThumbprint = certificateThumbprint
        self.unsupported = unsupported
    }

    /// The binding `cnf` describes; nil when there is none (absent or `null`).
    package init?(cnf node: JSONNode?) {
        guard let node, node != .null else { return nil }
        guard let members = node.object?.members, !members.isEmpty else {
            self.init(unsupported: "cnf")
            return
        }
        self.init()
        for (name, value) in members {
            switch (name, value.string) {
            case ("jkt", let text?) where !text.isEmpty: keyThumbprint = text
            case ("x5t#S256", let text?) where !text.isEmpty: certificateThumbprint = text
            default: unsupported = unsupported ?? "cnf.\(name)"
            }
        }
    }
}
