import Foundation

/// The body of `PUT /tokens/{type}`, as the authorization plugin sends it.
package struct CreationRequest: Sendable, Codable {
    package var id: String?
    package var serverID: String?
    package var resources: [OrthancResource]
    package var type: String?
    package var expirationDate: String?
    package var validityDuration: Int?

    enum CodingKeys: String, CodingKey {
        case id, resources, type
        case serverID = "server-id"
        case expirationDate = "expiration-date"
        case validityDuration = "validity-duration"
    }

    package init(
        id: String? = nil, serverID: String? = nil, resources: [OrthancResource], type: String? = nil,
        expirationDate: String? = nil, validityDuration: Int? = nil
    ) {
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

    /// When the token expires, as orthanc-auth-service decides it: `expiration-date` wins, else
    /// `validity-duration` from now, else the configured default, else never (nil). Never later
    /// than `maxSeconds` from now when that is set: a longer request is shortened, not refused.
    func expiry(now: Int, defaultSeconds: Int?, maxSeconds: Int?) throws(ShareTokens.CreationError) -> Int? {
        var expires: Int?
        if let expirationDate, !expirationDate.isEmpty {
            switch ShareTokenDates.parse(expirationDate) {
            case nil: throw .badRequest("expiration-date must be an ISO 8601 date or date-time")
            case .farFuture?: expires = nil
            case .seconds(let seconds)?:
                guard seconds > now else { throw .badRequest("expiration-date is in the past") }
                expires = seconds
            }
        } else if let validityDuration, validityDuration > 0 {
            expires = now + min(validityDuration, ShareTokenDates.farFutureSeconds)
        } else if let defaultSeconds {
            expires = now + defaultSeconds
        }
        guard let maxSeconds else { return expires }
        return min(expires ?? Int.max, now + maxSeconds)
    }
}

/// ISO 8601 dates as OE2 and orthanc-auth-service write them.
package enum ShareTokenDates {
    package enum Parsed: Equatable {
        case seconds(Int)
        /// Past year 5138 (`9999-12-31` included): as good as never.
        case farFuture
    }

    /// 10^11 seconds after 1970, year 5138: anything later reads as "never expires".
    static let farFutureSeconds = 100_000_000_000

    package static func parse(_ text: String) -> Parsed? {
        guard text.utf8.count <= 64 else { return nil }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                let seconds = date.timeIntervalSince1970
                guard seconds.isFinite else { return nil }
                return seconds >= Double(farFutureSeconds) ? .farFuture : .seconds(Int(seconds.rounded(.down)))
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
