import TollgateConfiguration
import TollgateKit

/// The links orthanc-auth-service builds for each token type, from the `public_*_root` settings.
/// A publication goes through the landing page when one is configured, unless `direct` (the
/// landing page's own redirect); instant links carry no URL (OE2 builds them).
struct ShareLinks {
    let config: ShareTokensConfig

    func url(type: String, resources: [OrthancResource], token: String, direct: Bool) -> String? {
        let token = FormEncoding.encode(token)
        if !direct, let landing = config.publicLandingRoot, type.hasSuffix("-publication") {
            return Self.join(landing, "?token=\(token)")
        }
        let dicomUIDs = resources.compactMap(\.dicomUID).map(FormEncoding.encode).joined(separator: ",")
        let orthancIDs = resources.compactMap(\.orthancID).map(FormEncoding.encode).joined(separator: ",")
        switch type {
        case "osimis-viewer-publication":
            return config.publicOrthancRoot.map {
                Self.join($0, "osimis-viewer/app/index.html?pickableStudyIds=\(orthancIDs)&selectedStudyIds=\(orthancIDs)&token=\(token)")
            }
        case "stone-viewer-publication":
            return config.publicOrthancRoot.map { Self.join($0, "stone-webviewer/index.html?study=\(dicomUIDs)&selectedStudies=\(dicomUIDs)&token=\(token)") }
        case "volview-viewer-publication":
            let urls = resources.compactMap(\.orthancID).map { "../studies/\(FormEncoding.encode($0))/archive" }.joined(separator: ",")
            return config.publicOrthancRoot.map { Self.join($0, "volview/index.html?names=[archive.zip]&urls=\(urls)&token=\(token)") }
        case "ohif-viewer-publication":
            let path =
                config.ohifDataSource == .dicomJSON
                ? "viewer?url=../studies/\(orthancIDs)/ohif-dicom-json&token=\(token)"
                : "viewer?StudyInstanceUIDs=\(dicomUIDs)&token=\(token)"
            return config.publicOHIFRoot.map { Self.join($0, path) }
        default:
            return nil
        }
    }

    static func hasNeededIDs(type: String, resources: [OrthancResource], ohif: OHIFDataSource) -> Bool {
        switch neededID(type: type, ohif: ohif) {
        case "dicom-uid": resources.allSatisfy { $0.dicomUID != nil }
        case "orthanc-id": resources.allSatisfy { $0.orthancID != nil }
        default: true
        }
    }

    static func neededID(type: String, ohif: OHIFDataSource) -> String {
        switch type {
        case "stone-viewer-publication", "meddream-viewer-publication": "dicom-uid"
        case "osimis-viewer-publication", "volview-viewer-publication": "orthanc-id"
        case "ohif-viewer-publication": ohif == .dicomJSON ? "orthanc-id" : "dicom-uid"
        default: "dicom-uid or orthanc-id"
        }
    }

    /// The root is a directory (a missing trailing '/' is added); a query-only link goes to the root itself.
    static func join(_ root: String, _ relative: String) -> String {
        if relative.hasPrefix("?") { return root + relative }
        return (root.hasSuffix("/") ? root : root + "/") + relative
    }
}
