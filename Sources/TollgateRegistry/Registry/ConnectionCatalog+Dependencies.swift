import Foundation
import TollgateKit

/// Who uses a connection (seed 002's dependency registration), in today's shape
/// (`/connections/{name}/dependencies` with `dependent_id`) and the seed's
/// (`/workflows/{workflow_id}/dependencies` with `connection_name`). A registration is a write:
/// it lands on the organisation's own connection, never GLOBAL's on its behalf, which would let it
/// undo GLOBAL's `CONNECTION_IN_USE` guard.
extension ConnectionCatalog {
    /// A workflow's registration as the seed's client reads it back.
    package struct WorkflowDependency: Sendable {
        package let workflowID: String
        package let connectionName: String
        package let dependency: ConnectionDependency
    }

    /// Registers `dependentID` (`dependent_id`, or the seed's `workflow_id`) on the organisation's own connection.
    package func addDependency(organization: String, name: String, dependentID: String?, label: String?) async throws -> ConnectionDependency {
        let id = try Self.dependentID(dependentID)
        return try await register(id, label: label, on: try await own(organization: organization, name: name))
    }

    /// Seed 002's `POST /workflows/{workflow_id}/dependencies` naming the connection.
    package func addWorkflowDependency(
        organization: String, workflowID: String, connectionName: String, label: String?
    ) async throws
        -> WorkflowDependency
    {
        let id = try Self.dependentID(workflowID)
        let dependency = try await register(id, label: label, on: try await own(organization: organization, name: connectionName))
        return WorkflowDependency(workflowID: id, connectionName: connectionName, dependency: dependency)
    }

    /// The names of the connections the organisation sees (its own and GLOBAL's it does not
    /// shadow) that list `workflowID` as a dependent.
    package func workflowConnections(organization: String, workflowID: String) async throws -> [String] {
        let id = try Self.dependentID(workflowID)
        var names: [String] = []
        for view in try await list(organization: organization) {
            let dependents = try await stored { try await self.store.dependencies(connectionID: view.record.id) }
            if dependents.contains(where: { $0.dependentID == id }) { names.append(view.record.name) }
        }
        return names
    }

    package func dependencies(organization: String, name: String) async throws -> [ConnectionDependency] {
        let record = try await resolve(organization: organization, name: name)
        return try await stored { try await self.store.dependencies(connectionID: record.id) }
    }

    package func removeDependency(organization: String, name: String, dependentID: String) async throws {
        let record = try await own(organization: organization, name: name)
        guard try await stored({ try await self.store.removeDependency(connectionID: record.id, dependentID: dependentID) }) else {
            throw RegistryError(.notFound, "no dependent \(PrintableText.clean(dependentID, limit: 128)) on \(name)")
        }
    }

    private func register(_ id: String, label: String?, on record: ConnectionRecord) async throws -> ConnectionDependency {
        let dependency = ConnectionDependency(dependentID: id, dependentName: PrintableText.clean(label ?? id, limit: 256), createdAt: clock.now())
        try await stored { try await self.store.addDependency(connectionID: record.id, dependency) }
        return try await stored { try await self.store.dependencies(connectionID: record.id) }.first { $0.dependentID == id } ?? dependency
    }

    private static func dependentID(_ value: String?) throws -> String {
        guard let id = value, (1...128).contains(id.utf8.count), id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw RegistryError(.invalidRequest, "dependent_id (workflow_id) is required: 1–128 visible ASCII characters")
        }
        return id
    }
}
