/// A user profile as the orthanc-authorization plugin reads it from `/user/get-profile`.
public struct OrthancProfile: Sendable, Equatable, Codable {
    public var name: String
    public var userID: String?
    public var permissions: [String]
    public var authorizedLabels: [String]
    public var groups: [String]
    /// Seconds the plugin may cache it.
    public var validity: Int

    enum CodingKeys: String, CodingKey {
        case name, permissions, groups, validity
        case userID = "user-id"
        case authorizedLabels = "authorized-labels"
    }

    public init(name: String, userID: String? = nil, permissions: [String], authorizedLabels: [String], groups: [String] = [], validity: Int) {
        self.name = name
        self.userID = userID
        self.permissions = permissions
        self.authorizedLabels = authorizedLabels
        self.groups = groups
        self.validity = validity
    }

    /// Holds at least one of `required` (a rule's `a|b|c`).
    public func holdsAny(of required: [String]) -> Bool {
        required.contains(where: permissions.contains)
    }

    /// The plugin's label rule: `*` sees everything; otherwise the resource needs one authorized label.
    public func maySee(labels: [String]) -> Bool {
        authorizedLabels.contains("*") || labels.contains(where: authorizedLabels.contains)
    }
}
