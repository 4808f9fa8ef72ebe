/// The resources a URI touches, as the authorization plugin's parser finds them: Orthanc REST
/// paths by Orthanc id, DICOMweb paths (and a QIDO's `StudyInstanceUID`) by DICOM UID. Each
/// access is a chain, deepest first, of the levels known; a share token covering any of them
/// covers the access.
package enum OrthancResourceAccess {
    static let restLevels: [String: String] = ["patients": "patient", "studies": "study", "series": "series", "instances": "instance"]
    static let webLevels: [String] = ["studies", "series", "instances"]

    package static func chain(uri: String, getArguments: [String: String], dicomWebRoot: String) -> [OrthancResource] {
        let segments = uri.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if segments.count >= 2, let level = restLevels[segments[0]], isOrthancID(segments[1]) {
            return [OrthancResource(level: level, orthancID: segments[1])]
        }
        let root = dicomWebRoot.split(separator: "/").map(String.init)
        guard segments.count > root.count, Array(segments.prefix(root.count)) == root else { return [] }
        let web = Array(segments.dropFirst(root.count))
        var chain: [OrthancResource] = []
        var index = 0
        for (position, name) in webLevels.enumerated() {
            guard index + 1 < web.count, web[index] == name, isDicomUID(web[index + 1]) else { break }
            guard position == 0 || !chain.isEmpty else { break }
            chain.insert(OrthancResource(level: ["study", "series", "instance"][position], dicomUID: web[index + 1]), at: 0)
            index += 2
        }
        if chain.isEmpty, let first = web.first, webLevels.contains(first), let uid = getArguments["StudyInstanceUID"], isDicomUID(uid) {
            chain = [OrthancResource(level: "study", dicomUID: uid)]
        }
        return chain
    }

    static func isOrthancID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || $0 == 45 }
    }

    /// Digits and dots only (no wildcard, no list): a QIDO for many studies is no single resource.
    static func isDicomUID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { (48...57).contains($0) || $0 == 46 }
    }
}
