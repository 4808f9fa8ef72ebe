import AsyncHTTPClient
import Foundation
import Testing

/// `tollgate serve` as its own process, for what only a process shows: signals, exit codes and the memory
/// of Tollgate alone (the test process's own RSS also moves with every suite running beside it).
final class TollgateProcess: Sendable {
    let process: Process
    let base: String
    let client: HTTPClient
    private let configFile: URL

    /// The `tollgate` executable next to this test bundle (SwiftPM builds both).
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tollgate")
    }

    /// Starts `tollgate serve` on a free loopback port with `config` (YAML, without `server:`) and waits for `/ready`.
    static func start(config: String, server: String = "") async throws -> TollgateProcess {
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build the tollgate product first")
        let port = try await freePort()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-process-\(UUID().uuidString).yaml")
        let serverLine = "server: {host: 127.0.0.1, port: \(port)\(server.isEmpty ? "" : ", " + server)}\n"
        try (serverLine + config).write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--config", file.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let running = TollgateProcess(process: process, base: "http://127.0.0.1:\(port)", configFile: file)
        try await waitUntil(seconds: 30) { (try? await running.status("/ready")) == 200 || !process.isRunning }
        try #require(process.isRunning, "tollgate serve exited at start-up")
        return running
    }

    private init(process: Process, base: String, configFile: URL) {
        self.process = process
        self.base = base
        self.configFile = configFile
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
    }

    func status(_ path: String, headers: [(String, String)] = []) async throws -> UInt {
        var request = HTTPClientRequest(url: base + path)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(20))
        _ = try await response.body.collect(upTo: 1 << 20)
        return UInt(response.status.code)
    }

    /// A `kB` line of the process's `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes.
    func memory(_ field: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""))
        return kilobytes * 1024
    }

    func stop() async {
        if process.isRunning { process.terminate() }
        try? await client.shutdown()
        try? FileManager.default.removeItem(at: configFile)
    }
}
