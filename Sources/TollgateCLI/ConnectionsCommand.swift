import ArgumentParser
import AsyncHTTPClient
import Foundation
import TollgateKit

/// `tollgate connections …`: the registry's API for people without curl, against a running
/// Tollgate. Secrets are read from files or the environment, never from the command line (where
/// `ps` and shell history would keep them).
struct ConnectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections", abstract: "Manage a running Tollgate's runtime OAuth connections (the registry API).",
        subcommands: [List.self, Show.self, Create.self, Delete.self, Test.self, Authorize.self])

    struct Target: ParsableArguments {
        @Option(help: "Tollgate's base URL (default: $TOLLGATE_URL, else http://127.0.0.1:8080).")
        var url: String?
        @Option(name: .customLong("api-key-file"), help: "File holding the admin API key (default: $TOLLGATE_API_KEY).")
        var apiKeyFile: String?
        @Option(help: "X-Organization-Id (default: GLOBAL).")
        var organization: String?
        @Option(help: "X-User-Id: who is asking (recorded as created_by).")
        var user: String?
        @Option(help: "API prefix (one of registry.api_prefixes).")
        var prefix = "/oauth"
        @Flag(help: "Print the server's JSON instead of a table.")
        var json = false

        func client() throws -> ConnectionsClient {
            let environment = ProcessInfo.processInfo.environment
            var headers: [(String, String)] = []
            if let key = try apiKeyFile.map(Self.read) ?? environment["TOLLGATE_API_KEY"] { headers.append(("X-API-Key", key)) }
            if let organization { headers.append(("X-Organization-Id", organization)) }
            if let user { headers.append(("X-User-Id", user)) }
            let base = url ?? environment["TOLLGATE_URL"] ?? "http://127.0.0.1:8080"
            return ConnectionsClient(base: base.hasSuffix("/") ? String(base.dropLast()) : base, prefix: prefix, headers: headers)
        }

        static func read(_ path: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Runs `body`, turning a refusal into one line on stderr and exit 1.
        func run(_ body: (ConnectionsClient) async throws -> Void) async throws {
            do {
                try await body(try client())
            } catch let failure as ConnectionsClient.Failure {
                FileHandle.standardError.write(Data("tollgate: \(failure)\n".utf8))
                throw ExitCode(1)
            }
        }

        func print(_ answer: ConnectionsClient.Answer, otherwise text: () -> String) {
            Swift.print(json ? String(decoding: answer.body, as: UTF8.self) : text())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the connections the organisation sees.")
        @OptionGroup var target: Target

        func run() async throws {
            try await target.run { client in
                let answer = try await client.send(.GET, "/connections")
                let rows = (answer.object["connections"] as? [[String: Any]] ?? []).map { row in
                    ["connection_name", "organization", "oauth_flow_type", "status", "expires_at"].map { TextTable.text(row[$0]) }
                }
                target.print(answer) { TextTable.render(["NAME", "ORGANIZATION", "FLOW", "STATUS", "TOKEN EXPIRES"], rows) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one connection (never its secrets).")
        @OptionGroup var target: Target
        @Argument var name: String

        func run() async throws {
            try await target.run { client in
                let answer = try await client.send(.GET, "/connections/" + ConnectionsClient.pathSegment(name))
                target.print(answer) { TextTable.fields(answer.object) }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a connection.",
            discussion: "The client secret comes from --client-secret-file or $TOLLGATE_CLIENT_SECRET, a private_key_jwt key from --private-key-file.")
        @OptionGroup var target: Target
        @Argument var name: String
        @Option(help: "client_credentials, refresh_token or authorization_code.") var flow: String
        @Option(name: .customLong("client-id")) var clientID: String
        @Option(name: .customLong("token-url")) var tokenURL: String
        @Option(name: .customLong("authorization-url")) var authorizationURL: String?
        @Option(help: "Comma- or space-separated.") var scopes: String?
        @Option(help: "client_secret_basic, client_secret_post, none (public client) or private_key_jwt.") var authMethod: String?
        @Option(help: "The IdP's issuer (RFC 9207 iss, OIDC ID token, discovery of its revocation endpoint).") var issuer: String?
        @Option(help: "The API's base URL, for /proxy/{name}.") var apiURL: String?
        @Option(name: .customLong("redirect-uri")) var redirectURI: String?
        @Option(name: .customLong("revocation-url")) var revocationURL: String?
        @Option var description: String?
        @Option(name: .customLong("client-secret-file")) var clientSecretFile: String?
        @Option(name: .customLong("private-key-file")) var privateKeyFile: String?
        @Option(name: .customLong("key-id")) var keyID: String?

        func run() async throws {
            var body: [String: Any] = ["connection_name": name, "oauth_flow_type": flow, "client_id": clientID, "token_url": tokenURL]
            let optional: [(String, String?)] = [
                ("authorization_url", authorizationURL), ("scopes", scopes), ("auth_method", authMethod), ("issuer", issuer), ("url", apiURL),
                ("redirect_uri", redirectURI), ("revocation_url", revocationURL), ("description", description), ("key_id", keyID),
                ("client_secret", try clientSecretFile.map(Target.read) ?? ProcessInfo.processInfo.environment["TOLLGATE_CLIENT_SECRET"]),
                (
                    "private_key",
                    try privateKeyFile.map { path in
                        guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
                        return pem
                    }
                ),
            ]
            for (key, value) in optional { if let value { body[key] = value } }
            try await target.run { client in
                let answer = try await client.send(.POST, "/connections", json: body)
                target.print(answer) { "created \(name): status \(TextTable.text(answer.object["status"]))" }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a connection (its tokens are revoked at the IdP when it says where).")
        @OptionGroup var target: Target
        @Argument var name: String

        func run() async throws {
            try await target.run { client in
                _ = try await client.send(.DELETE, "/connections/" + ConnectionsClient.pathSegment(name))
                Swift.print(target.json ? #"{"deleted":"\#(name)"}"# : "deleted \(name)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask the IdP for a new token now.")
        @OptionGroup var target: Target
        @Argument var name: String

        func run() async throws {
            try await target.run { client in
                let answer = try await client.send(.POST, "/connections/" + ConnectionsClient.pathSegment(name) + "/test")
                let object = answer.object
                target.print(answer) {
                    "\(name): \(TextTable.text(object["test_result"])), token valid \(TextTable.text(object["expires_in"])) s, \(TextTable.text(object["latency_ms"])) ms"
                }
            }
        }
    }

    struct Authorize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start an authorization: prints the URL to open in a browser.")
        @OptionGroup var target: Target
        @Argument var name: String
        @Flag(help: "Then wait until the connection is completed or failed (up to the state's lifetime).") var wait = false

        func run() async throws {
            try await target.run { client in
                let path = "/connections/" + (try ConnectionsClient.pathSegment(name))
                let answer = try await client.send(.POST, path + "/authorize")
                target.print(answer) { "Open this URL in a browser and sign in:\n\(TextTable.text(answer.object["authorization_url"]))" }
                guard wait else { return }
                while true {
                    try await Task.sleep(for: .seconds(2))
                    let status = try await client.send(.GET, path).object["status"] as? String
                    if status == "completed" || status == "failed" {
                        Swift.print("\(name): \(status ?? "?")")
                        if status == "failed" { throw ExitCode(1) }
                        return
                    }
                }
            }
        }
    }
}
