package import TollgateKit

/// `orthanc.share_tokens` — resource tokens Tollgate signs for `PUT /tokens/{type}` (viewer and
/// download links, publications) and grants in `/tokens/validate`.
package struct ShareTokensConfig: Sendable, Decodable {
    /// At least 32 bytes of secret key material (HS256). Unset: a random key per process, so
    /// links die with the process and replicas do not honour each other's links.
    package var keyFile: String?
    /// The same key given inline (at least 32 bytes), usually `${TOLLGATE_SHARE_KEY}` from a Secret,
    /// so that every replica of a Deployment signs and checks links with one key.
    package var key: Secret?
    /// Validity of a token asked for without `expiration-date` or `validity-duration`; nil: it
    /// never expires (orthanc-auth-service's meaning, OE2's `ShareDuration: 0`), unless capped below.
    package var defaultValiditySeconds: Int?
    /// Longer requests, and ones that never expire, are shortened to this; nil: no cap.
    package var maxValiditySeconds: Int?
    /// Roots for the links `PUT /tokens/{type}` answers (orthanc-auth-service's `PUBLIC_*_ROOT`).
    package var publicOrthancRoot: String?
    package var publicOHIFRoot: String?
    package var publicLandingRoot: String?
    package var ohifDataSource: OHIFDataSource = .dicomWeb

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keyFile = "key_file"
        case key
        case defaultValiditySeconds = "default_validity_seconds"
        case maxValiditySeconds = "max_validity_seconds"
        case publicOrthancRoot = "public_orthanc_root"
        case publicOHIFRoot = "public_ohif_root"
        case publicLandingRoot = "public_landing_root"
        case ohifDataSource = "ohif_data_source"
    }

    package init() {}

    /// Whether links survive a restart and hold on every replica: a key that is not per process.
    package var hasSharedKey: Bool { keyFile != nil || key != nil }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        keyFile = try c.decodeOptional(.keyFile)
        key = try c.decodeOptional(.key)
        defaultValiditySeconds = try c.decodeOptional(.defaultValiditySeconds)
        maxValiditySeconds = try c.decodeOptional(.maxValiditySeconds)
        publicOrthancRoot = try c.decodeOptional(.publicOrthancRoot)
        publicOHIFRoot = try c.decodeOptional(.publicOHIFRoot)
        publicLandingRoot = try c.decodeOptional(.publicLandingRoot)
        ohifDataSource = try c.decode(.ohifDataSource, default: ohifDataSource)
    }
}

package enum OHIFDataSource: String, ConfigEnum {
    case dicomWeb = "dicom-web"
    case dicomJSON = "dicom-json"
}
