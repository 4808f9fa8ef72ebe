package import TollgateKit

/// An active token's claims. A class, so that a decision-cache entry holds one pointer: cached
/// decisions are the bulk of Tollgate's memory (100,000 of them cost +116 MB as a struct with
/// pre-rendered JSON, about half that now). The MockForge JSON is rendered per answer instead.
package final class Principal: Sendable {
    package let claims: TokenClaims

    package init(claims: TokenClaims) {
        self.claims = claims
    }

    package var claimsJSON: String {
        var out = TextBuffer()
        claims.appendJSON(to: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    package var userIDJSON: String { JSONText.string(claims.userID) }
}

extension TokenClaims {
    /// The claims as MockForge answers them, written straight into `out` (an answer per request).
    /// Userinfo claims follow, except those whose names a standard member already took.
    package func appendJSON(to out: inout TextBuffer) {
        var first = true
        var written: [String] = []  // kept only when userinfo could repeat a name
        func separator() {
            out.append(byte: first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
        }
        func key(_ name: StaticString) {
            separator()
            out.append(byte: UInt8(ascii: "\""))
            out.append(bytes: name)
            out.append(bytes: #"":"#)
            if !userinfo.isEmpty { written.append(name.description) }
        }
        func strings(_ list: [String]) {
            out.append(byte: UInt8(ascii: "["))
            for (index, value) in list.enumerated() {
                if index > 0 { out.append(byte: UInt8(ascii: ",")) }
                out.appendJSONString(value)
            }
            out.append(byte: UInt8(ascii: "]"))
        }
        if !scopes.isEmpty { key("scope"); out.appendJSONString(scopes.joined(separator: " ")) }
        if let clientID { key("client_id"); out.appendJSONString(clientID) }
        if let subject { key("sub"); out.appendJSONString(subject) }
        if let username { key("username"); out.appendJSONString(username) }
        if let issuer { key("iss"); out.appendJSONString(issuer) }
        if !audiences.isEmpty {
            key("aud")
            if audiences.count == 1 { out.appendJSONString(audiences[0]) } else { strings(audiences) }
        }
        if let expiresAt { key("exp"); out.append(expiresAt) }
        if let issuedAt { key("iat"); out.append(issuedAt) }
        if let notBefore { key("nbf"); out.append(notBefore) }
        if let tokenType { key("token_type"); out.appendJSONString(tokenType) }
        if !roles.isEmpty { key("roles"); strings(roles) }
        if !groups.isEmpty { key("groups"); strings(groups) }
        for (name, value) in userinfo.sorted(by: { $0.key < $1.key }) where !written.contains(name) {
            separator()
            out.appendJSONString(name)
            out.append(byte: UInt8(ascii: ":"))
            out.appendJSONString(value)
        }
        if first { out.append(byte: UInt8(ascii: "{")) }
        out.append(byte: UInt8(ascii: "}"))
    }
}
