import NIOHTTP1

/// How Tollgate authenticates a token request to one token endpoint. One file per method in
/// this folder; `OutboundServers` picks one from `auth_method` when it builds a server.
protocol TokenRequestAuthentication: Sendable {
    /// Adds the client's credentials (headers or form fields) to a token request for `endpoint`.
    func apply(form: inout [(String, String)], headers: inout HTTPHeaders, endpoint: String, now: Double) async throws
}
