import ArgumentParser
import Foundation
import TollgateConfiguration
import TollgateKit
import TollgateRegistry
import TollgateServer

@main
struct TollgateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "OAuth2 for Orthanc, MockForge and friends: inbound token validation and outbound client credentials.",
        version: TollgateVersion.string,
        subcommands: [Serve.self, CheckConfig.self, RegistryCommand.self, ConnectionsCommand.self, Version.self, Healthcheck.self]
    )

    static func main() async {
        EventLoopExecutor.install(environment: ProcessInfo.processInfo.environment)
        await main(nil)
    }
}

/// Options shared by every command that reads a config file.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Path to config.yaml (default: $TOLLGATE_CONFIG, else ./config.yaml).")
    var config: String?

    @Option(name: .long, help: "Listen on this host instead of server.host.")
    var host: String?

    @Option(name: .long, help: "Listen on this port instead of server.port.")
    var port: Int?

    @Option(
        name: .customLong("orthanc-config"),
        help: "Also read outbound servers from an Orthanc JSON configuration's DicomWebOAuth.Servers block (seed-000 plugin migration).")
    var orthancConfig: String?

    @Flag(
        name: .customLong("mockforge-plugin-env"),
        help:
            "Take the one inbound issuer from seed 003's MockForge plugin variables (AUTH_SERVER_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, HOST, PORT); they replace inbound.issuers, turn the dev issuer off, and --host/--port still win."
    )
    var mockforgePluginEnv = false

    var path: String { config ?? ProcessInfo.processInfo.environment["TOLLGATE_CONFIG"] ?? "config.yaml" }

    /// The validated config, or exit 1 with every problem listed on stderr.
    func load() throws -> TollgateConfig {
        do {
            // Every problem at once: decode and substitution problems with the semantic ones.
            var (loaded, decoding) = try ConfigLoader.decode(yaml: try ConfigLoader.read(path: path))
            if mockforgePluginEnv { try MockForgePluginMigration.apply(environment: ProcessInfo.processInfo.environment, to: &loaded) }
            if let host { loaded.server.host = host }
            if let port { loaded.server.port = port }
            if let orthancConfig { try OrthancMigration.merge(OrthancMigration.servers(fromFile: orthancConfig), into: &loaded) }
            let problems = loaded.allProblems(decoding: decoding)
            if !problems.isEmpty { throw ConfigErrors(errors: problems) }
            return loaded
        } catch let errors as ConfigErrors {
            var source = orthancConfig.map { "\(path) (with \($0))" } ?? path
            if mockforgePluginEnv { source += " and the MockForge plugin environment" }
            FileHandle.standardError.write(Data("tollgate: invalid configuration in \(source):\n\(errors)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the service.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let app: TollgateApp
        do {
            app = try await TollgateApp(config: config)
        } catch let errors as ConfigErrors {
            FileHandle.standardError.write(Data("tollgate: cannot start with \(options.path):\n\(errors)\n".utf8))
            throw ExitCode(1)
        }
        do {
            try await app.run()
        } catch let error as ListenError {
            FileHandle.standardError.write(Data("tollgate: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate a config file and print a redacted summary.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        for warning in config.warnings {
            FileHandle.standardError.write(Data("tollgate: warning: \(warning)\n".utf8))
        }
        print("configuration OK: \(options.path)\n\(config.redactedSummary)")
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() { print("tollgate \(TollgateVersion.string)") }
}

struct Healthcheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exit 0 when a running Tollgate answers 200 (for container health checks).")
    @Option(help: "URL to check.") var url = "http://127.0.0.1:8080/health"

    func run() async throws {
        guard await HealthCheck.passes(url: url) else { throw ExitCode(1) }
    }
}

struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "The runtime connection registry.",
        subcommands: [Rewrap.self])

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-wrap every connection's data key under the first of registry.encryption.keys (after putting a new key first).")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            guard config.registry.enabled else {
                FileHandle.standardError.write(Data("tollgate: registry.enabled is false in \(options.path)\n".utf8))
                throw ExitCode(1)
            }
            let registry: ConnectionRegistry
            do {
                registry = try await ConnectionRegistry.open(config: config.registry, exclusive: false, logger: .tollgate("tollgate", config: config.log))
            } catch let errors as ConfigErrors {
                FileHandle.standardError.write(Data("tollgate: cannot open the registry:\n\(errors)\n".utf8))
                throw ExitCode(1)
            }
            do {
                let (moved, current) = try await registry.rewrap()
                let counts = try await registry.rowsPerKey().sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                print(
                    "rewrapped \(moved) connection(s) to key \(registry.keyring.currentKeyID); \(current) already used it. Connections per key: \(counts.joined(separator: ", "))"
                )
                await registry.close()
                try await Self.audit(
                    config, succeeded: true, keyID: registry.keyring.currentKeyID, reason: "rewrapped \(moved) connection(s); \(current) already used the key")
            } catch let exit as ExitCode {
                throw exit
            } catch {
                await registry.close()
                FileHandle.standardError.write(Data("tollgate: rewrap stopped: \(error)\n".utf8))
                try? await Self.audit(config, succeeded: false, keyID: registry.keyring.currentKeyID, reason: "rewrap stopped")
                throw ExitCode(1)
            }
        }

        /// The key rewrap on the audit trail; with `audit.on_failure: deny` a record that cannot be written fails the command.
        static func audit(_ config: TollgateConfig, succeeded: Bool, keyID: String, reason: String) async throws {
            guard await CommandAudit.record(config: config.audit, action: .keyRewrap, outcome: succeeded, target: "key:" + keyID, reason: reason)
            else {
                FileHandle.standardError.write(Data("tollgate: the audit record of the rewrap could not be written (see audit.sinks)\n".utf8))
                if config.audit.onFailure == .deny { throw ExitCode(1) }
                return
            }
        }
    }
}
