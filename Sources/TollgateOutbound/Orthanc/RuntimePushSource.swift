import TollgateConfiguration

/// A DICOMweb definition whose token comes from somewhere other than `outbound.servers` (a
/// runtime connection), resolved by the composition root, which owns the registry.
public struct RuntimePushTarget: Sendable {
    /// The definition's name in Orthanc.
    public let name: String
    /// What the definition draws its token from, for logs and status.
    public let source: String
    public let url: String
    public let extra: [String: JSONValue]
    /// A token with comfortably long to live, or nil when none can be had now.
    public let token: @Sendable () async -> AccessToken?

    public init(name: String, source: String, url: String, extra: [String: JSONValue], token: @escaping @Sendable () async -> AccessToken?) {
        self.name = name
        self.source = source
        self.url = url
        self.extra = extra
        self.token = token
    }
}

/// The runtime definitions to keep in Orthanc, asked again every few seconds; a name that stops
/// appearing is removed from Orthanc.
public protocol RuntimePushSource: Sendable {
    func pushTargets() async -> [RuntimePushTarget]
}
