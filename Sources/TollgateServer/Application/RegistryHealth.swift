import Synchronization
import TollgateKit
import TollgateRegistry

/// Whether the registry's store answers: asked every few seconds in the background (not per
/// `/ready` call), unready after two failures in a row — a replica that cannot reach its store
/// cannot serve the connection API or its runtime tokens.
final class RegistryHealth: Sendable {
    private let registry: ConnectionRegistry
    private let interval: Duration
    private let failures = Mutex<(count: Int, reason: String?)>((0, nil))

    init(registry: ConnectionRegistry, interval: Duration = .seconds(5)) {
        self.registry = registry
        self.interval = interval
    }

    var notReadyReason: String? {
        failures.withLock { $0.count >= 2 ? "registry store unreachable (\($0.reason ?? "no answer"))" : nil }
    }

    func run() async {
        while !Task.isCancelled {
            await probe()
            try? await Task.sleep(for: interval)
        }
    }

    func probe() async {
        do {
            _ = try await registry.rowsPerKey()
            failures.withLock { $0 = (0, nil) }
        } catch {
            let kind = PrintableText.clean(String(describing: type(of: error)), limit: 64)
            failures.withLock { $0 = ($0.count + 1, kind) }
        }
    }
}
