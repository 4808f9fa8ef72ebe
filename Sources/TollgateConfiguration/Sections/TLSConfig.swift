package struct TLSConfig: Sendable, Decodable {
    /// Extra PEM CA bundle trusted in addition to the system roots (hospital-internal CAs).
    package var caFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case caFile = "ca_file" }

    package init(caFile: String? = nil) { self.caFile = caFile }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        caFile = try c.decodeOptional(.caFile)
    }
}
