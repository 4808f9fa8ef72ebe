import TollgateKit

/// `orthanc.share_tokens` — resource tokens Tollgate signs for `PUT /tokens/{type}` (viewer and
/// download links, publications) and grants in `/tokens/validate`.
public struct ShareTokensConfig: Sendable, Decodable {
    /// At least 32 bytes of secret key material (HS256). Unset: a random key per process, so
    /// links die with the process and replicas do not honour each other's links.
    public var keyFile: String?
    /// Validity of a token asked for without `validity-duration` or `expiration-date`.
    public var defaultValiditySeconds = 7 * 86400
    /// Longer requests are shortened to this.
    public var maxValiditySeconds = 30 * 86400
    /// Roots for the links `PUT /tokens/{type}` answers (orthanc-auth-service's `PUBLIC_*_ROOT`).
    public var publicOrthancRoot: String?
    public var publicOHIFRoot: String?
    public var publicLandingRoot: String?
    public var ohifDataSource: OHIFDataSource = .dicomWeb

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keyFile = "key_file"
        case defaultValiditySeconds = "default_validity_seconds"
        case maxValiditySeconds = "max_validity_seconds"
        case publicOrthancRoot = "public_orthanc_root"
        case publicOHIFRoot = "public_ohif_root"
        case publicLandingRoot = "public_landing_root"
        case ohifDataSource = "ohif_data_source"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        keyFile = try c.decodeOptional(.keyFile)
        defaultValiditySeconds = try c.decode(.defaultValiditySeconds, default: defaultValiditySeconds)
        maxValiditySeconds = try c.decode(.maxValiditySeconds, default: maxValiditySeconds)
        publicOrthancRoot = try c.decodeOptional(.publicOrthancRoot)
        publicOHIFRoot = try c.decodeOptional(.publicOHIFRoot)
        publicLandingRoot = try c.decodeOptional(.publicLandingRoot)
        ohifDataSource = try c.decode(.ohifDataSource, default: ohifDataSource)
    }
}

public enum OHIFDataSource: String, ConfigEnum {
    case dicomWeb = "dicom-web"
    case dicomJSON = "dicom-json"
}
