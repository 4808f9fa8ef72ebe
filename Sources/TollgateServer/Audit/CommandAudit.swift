package import TollgateConfiguration
import Foundation
import Synchronization

/// Administrative acts done from the command line rather than over HTTP (`tollgate registry
/// rewrap`): recorded on the trail `audit:` configures, flushed before the command exits.
package enum CommandAudit {
    /// Records the act; false when the trail is on and the record could not be written everywhere.
    package static func record(
        config: AuditConfig, action: CommandAct, outcome succeeded: Bool, target: String?, reason: String
    ) async -> Bool {
        let observer = LossCounter()
        guard let trail = try? AuditTrail.make(config: config, observer: observer) else { return !config.enabled }
        var event = AuditEvent(
            category: .admin, action: action.auditAction, outcome: succeeded ? .allowed : .denied, status: succeeded ? 200 : 500,
            method: "CLI", path: action.commandLine, requestID: UUID().uuidString.lowercased())
        let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
        event.admin = AuditEvent.clean("cli:" + user, limit: 128)
        event.target = AuditEvent.clean(target, limit: 128)
        event.reason = AuditEvent.clean(reason)
        let queued = trail.record(event)
        await trail.close()
        return queued && !observer.lost
    }

    package enum CommandAct: Sendable {
        case keyRewrap

        var auditAction: AuditAction {
            switch self {
            case .keyRewrap: .keyRewrap
            }
        }

        var commandLine: String {
            switch self {
            case .keyRewrap: "tollgate registry rewrap"
            }
        }
    }

    private final class LossCounter: AuditObserver, Sendable {
        private let dropped = Atomic<Int>(0)
        var lost: Bool { dropped.load(ordering: .relaxed) > 0 }
        func auditWritten(sink: String, count: Int) {}
        func auditDropped(sink: String, count: Int) { dropped.add(count, ordering: .relaxed) }
        func auditSinkFailed(sink: String, reason: String) {}
    }
}
