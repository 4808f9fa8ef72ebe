import TollgateConfiguration
import TollgateOutbound
import TollgateRegistry

/// The Orthanc pusher's runtime definitions: every connection with an `orthanc_push`, and each
/// `orthanc.dicomweb_servers` entry whose `outbound_server` names a GLOBAL runtime connection
/// rather than a configured server.
struct RegistryPushSource: RuntimePushSource {
    let connections: RuntimeConnections
    let configured: [(name: String, definition: OrthancDicomWebServerConfig)]
    /// Tokens handed to Orthanc must outlive the pusher's next look comfortably.
    let minTTL: Int

    func pushTargets() async -> [RuntimePushTarget] {
        var targets: [RuntimePushTarget] = []
        for (name, definition) in configured {
            let connection = definition.outboundServer
            var url = definition.url
            if url == nil { url = try? await connections.catalog.upstreamURL(organization: RuntimeConnections.globalOrganization, name: connection) }
            guard let url else { continue }
            targets.append(
                RuntimePushTarget(
                    name: name, source: connection, url: url, extra: definition.extra,
                    token: token(RuntimeConnections.globalOrganization, connection)))
        }
        for (record, push, url) in (try? await connections.catalog.pushDefinitions()) ?? [] {
            targets.append(
                RuntimePushTarget(
                    name: push.name, source: record.organization + "/" + record.name, url: url, extra: push.extra,
                    token: token(record.organization, record.name)))
        }
        return targets
    }

    private func token(_ organization: String, _ name: String) -> @Sendable () async -> AccessToken? {
        let connections = self.connections, minTTL = self.minTTL
        return { try? await connections.tokens.accessToken(organization: organization, name: name, refused: nil, minTTL: minTTL) }
    }
}
