import Foundation

/// The body of `PUT /tokens/{type}`, as the authorization plugin sends it.
public struct CreationRequest: Sendable, Codable {
    public var id: String?
    public var serverID: String?
    public var resources: [OrthancResource]
    public var type: String?
    public var expirationDate: String?
    public var validityDuration: Int?

    enum CodingKeys: String, CodingKey {
        case id, resources, type
        case serverID = "server-id"
        case expirationDate = "expiration-date"
        case validityDuration = "validity-duration"
    }

    public init(id: String? = nil, serverID: String? = nil, resources: [OrthancResource], type: String? = nil,
                expirationDate: String? = nil, validityDuration: Int? = nil) {
        self.id = id
        self.serverID = serverID
        self.resources = resources
        self.type = type
        self.expirationDate = expirationDate
        self.validityDuration = validityDuration
    }

    func check() throws(ShareTokens.CreationError) {
        guard !resources.isEmpty else { throw .badRequest("resources must list at least one resource") }
        guard resources.count <= ShareTokens.maxResources else { throw .badRequest("at most \(ShareTokens.maxResources) resources") }
        for resource in resources {
            guard OrthancResource.levels.contains(resource.level) else {
                throw .badRequest("a resource's level is patient, study, series or instance")
            }
            guard resource.dicomUID != nil || resource.orthancID != nil else {
                throw .badRequest("every resource needs dicom-uid or orthanc-id")
            }
            for value in [resource.dicomUID, resource.orthancID, resource.url].compactMap({ $0 }) {
                guard !value.isEmpty, value.utf8.count <= ShareTokens.maxIDLength, value.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                    throw .badRequest("ids and urls are 1-\(ShareTokens.maxIDLength) printable ASCII characters")
                }
            }
        }
        for value in [id, serverID].compactMap({ $0 }) where value.utf8.count > ShareTokens.maxIDLength {
            throw .badRequest("id and server-id are at most \(ShareTokens.maxIDLength) characters")
        }
    }

    /// Seconds the token lives: `validity-duration`, else until `expiration-date`, else the
    /// default; never past the maximum.
    func lifetime(now: Int, defaultSeconds: Int, maxSeconds: Int) throws(ShareTokens.CreationError) -> Int {
        let asked: Int
        if let validityDuration, validityDuration > 0 {
            asked = validityDuration
        } else if let expirationDate, !expirationDate.isEmpty {
            guard let expires = ShareTokenDates.parse(expirationDate) else {
                throw .badRequest("expiration-date must be an ISO 8601 date or date-time")
            }
            guard expires > now else { throw .badRequest("expiration-date is in the past") }
            asked = expires - now
        } else {
            asked = defaultSeconds
        }
        return min(asked, maxSeconds)
    }
}

/// ISO 8601 dates as OE2 and orthanc-auth-service write them.
package enum ShareTokenDates {
    package static func parse(_ text: String) -> Int? {
        guard text.utf8.count <= 64 else { return nil }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                let seconds = date.timeIntervalSince1970
                guard seconds.isFinite, abs(seconds) < 1e11 else { return nil }
                return Int(seconds)
            }
        }
        return nil
    }

    static func render(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
