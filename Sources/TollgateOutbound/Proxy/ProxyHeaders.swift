package import HTTPTypes
package import NIOHTTP1
import TollgateKit

/// Which headers cross the proxy, in each direction (RFC 9110 §7.6.1).
package enum ProxyHeaders {
    /// The caller headers that go upstream: allowlisted, not hop-by-hop, not named by Connection.
    /// Content-Length is not copied: the body's declared length travels with the body itself.
    static func upstreamRequestHeaders(from incoming: HTTPFields, allowlist: Set<String>) -> HTTPHeaders {
        let dropped = HeaderRules.neverForwarded.union(connectionNamed(in: incoming)).union(["content-length"])
        var headers = HTTPHeaders()
        for field in incoming {
            let name = field.name.canonicalName
            guard allowlist.contains(name), !dropped.contains(name) else { continue }
            headers.add(name: field.name.rawName, value: field.value)
        }
        return headers
    }

    /// Upstream answer headers for the caller: hop-by-hop and cookies stay behind.
    package static func callerResponseHeaders(from upstream: HTTPHeaders) -> HTTPFields {
        var named: Set<String> = []
        for value in upstream[canonicalForm: "connection"] {
            for token in value.split(separator: ",") { named.insert(ASCIIText.trimmingOWS(token).lowercased()) }
        }
        var fields = HTTPFields()
        for (name, value) in upstream {
            let lower = name.lowercased()
            guard !HeaderRules.hopByHop.contains(lower), !named.contains(lower), lower != "set-cookie",
                let fieldName = HTTPField.Name(name)
            else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    private static func connectionNamed(in fields: HTTPFields) -> Set<String> {
        var named: Set<String> = []
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") {
                named.insert(ASCIIText.trimmingOWS(token).lowercased())
            }
        }
        return named
    }
}
