/// A resource a share token covers, or a request touches: orthanc-auth-service's `OrthancResource`.
package struct OrthancResource: Sendable, Codable, Equatable {
    package var level: String
    package var dicomUID: String?
    package var orthancID: String?
    /// For downloads: the link the token was made for (`/studies/…/archive`).
    package var url: String?

    enum CodingKeys: String, CodingKey {
        case level, url
        case dicomUID = "dicom-uid"
        case orthancID = "orthanc-id"
    }

    package static let levels: Set<String> = ["patient", "study", "series", "instance"]

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Orthanc's own API writes levels capitalised (`Study`); orthanc-auth-service's are lower case.
        level = try c.decode(String.self, forKey: .level).lowercased()
        dicomUID = try c.decodeIfPresent(String.self, forKey: .dicomUID)
        orthancID = try c.decodeIfPresent(String.self, forKey: .orthancID)
        url = try c.decodeIfPresent(String.self, forKey: .url)
    }

    package init(level: String, dicomUID: String? = nil, orthancID: String? = nil, url: String? = nil) {
        self.level = level
        self.dicomUID = dicomUID
        self.orthancID = orthancID
        self.url = url
    }

    /// Same level, and every id both sides carry is equal (at least one is compared): a request
    /// naming study S by both ids is covered only by a token naming S, never by a mix.
    package func covers(_ access: OrthancResource) -> Bool {
        guard level == access.level else { return false }
        var compared = 0
        if let mine = dicomUID, let theirs = access.dicomUID {
            guard mine == theirs else { return false }
            compared += 1
        }
        if let mine = orthancID, let theirs = access.orthancID {
            guard mine == theirs else { return false }
            compared += 1
        }
        return compared > 0
    }
}
