import Foundation
import NIOHTTP1

/// How Tollgate authenticates a token request to one token endpoint. One file per method in
/// this folder; `OutboundServers` picks one from `auth_method` when it builds a server.
protocol TokenRequestAuthentication: Sendable {
    /// Adds the client's credentials (headers or form fields) to a token request for `endpoint`.
    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws
}

/// A credential that could not be had for one token request. `detail` names a file or a field,
/// never what the file holds.
struct CredentialUnavailable: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}

enum CredentialFile {
    /// Key files and assertions are small; anything larger is not one.
    static let maxBytes = 64 * 1024

    /// The file's bytes, read now (never cached: projected tokens rotate under the same path).
    static func read(_ path: String) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CredentialUnavailable(detail: "cannot read \(path)") }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maxBytes + 1) else { throw CredentialUnavailable(detail: "cannot read \(path)") }
        guard data.count <= maxBytes else { throw CredentialUnavailable(detail: "\(path) is larger than \(maxBytes / 1024) KB") }
        return data
    }
}
