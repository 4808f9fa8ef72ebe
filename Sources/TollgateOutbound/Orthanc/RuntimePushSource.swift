package import TollgateKit
import TollgateConfiguration

/// A DICOMweb definition whose token comes from somewhere other than `outbound.servers` (a
/// runtime connection), resolved by the composition root, which owns the registry.
package struct RuntimePushTarget: Sendable {
    /// The definition's name in Orthanc.
    package let name: String
    /// What the definition draws its token from, for logs and status.
    package let source: String
    package let url: String
    package let extra: [String: JSONNode]
    /// A token with comfortably long to live, or nil when none can be had now.
    package let token: @Sendable () async -> AccessToken?

    package init(name: String, source: String, url: String, extra: [String: JSONNode], token: @escaping @Sendable () async -> AccessToken?) {
        self.name = name
        self.source = source
        self.url = url
        self.extra = extra
        self.token = token
    }
}

/// The runtime definitions to keep in Orthanc, asked again every few seconds; a name that stops
/// appearing is removed from Orthanc.
package protocol RuntimePushSource: Sendable {
    func pushTargets() async -> [RuntimePushTarget]
}
