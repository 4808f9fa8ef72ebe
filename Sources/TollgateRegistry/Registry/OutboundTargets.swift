package import TollgateConfiguration
package import TollgateOutbound

/// The one place that decides what an outbound name means: a configured server (`config.yaml`)
/// first, else a runtime connection of the caller's organisation (GLOBAL's when the caller names
/// none). `/proxy`, `/token`, the Orthanc pusher's definitions and the registry's reserved names ask here.
package struct OutboundTargets: Sendable {
    package enum Target: Sendable {
        case configured(OutboundServer)
        /// The registry to ask, and the organisation whose connection (or GLOBAL's) is meant.
        case runtime(RuntimeConnections, organization: String)
        /// No configured server by that name, and no registry to look in.
        case unknown
    }

    private let servers: OutboundServers
    private let connections: RuntimeConnections?

    package init(servers: OutboundServers, connections: RuntimeConnections?) {
        self.servers = servers
        self.connections = connections
    }

    /// What `name` means for a caller that sent `organizationHeader` (`X-Organization-Id`); a malformed
    /// header is refused (`INVALID_REQUEST`) only when the name is not a configured server.
    package func resolve(_ name: String, organizationHeader: String?) throws -> Target {
        if let server = servers[name] { return .configured(server) }
        guard let connections else { return .unknown }
        return .runtime(connections, organization: try RuntimeConnections.organization(header: organizationHeader))
    }

    /// Names no runtime connection may take: the configured servers'.
    package static func reservedNames(_ servers: OutboundServers) -> Set<String> {
        Set(servers.all.map(\.name))
    }

    /// `orthanc.dicomweb_servers` entries whose `outbound_server` is no configured server: they name
    /// GLOBAL runtime connections, and the registry's push source serves them.
    package static func runtimeDefinitions(
        _ definitions: [String: OrthancDicomWebServerConfig], servers: OutboundServers
    )
        -> [(name: String, definition: OrthancDicomWebServerConfig)]
    {
        definitions.sorted { $0.key < $1.key }.filter { servers[$0.value.outboundServer] == nil }.map { (name: $0.key, definition: $0.value) }
    }
}
