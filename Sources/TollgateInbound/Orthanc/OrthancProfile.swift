/// A user profile as the orthanc-authorization plugin reads it from `/user/get-profile`.
package struct OrthancProfile: Sendable, Equatable, Codable {
    package var name: String
    package var userID: String?
    package var permissions: [String]
    package var authorizedLabels: [String]
    package var groups: [String]
    /// Seconds the plugin may cache it.
    package var validity: Int

    enum CodingKeys: String, CodingKey {
        case name, permissions, groups, validity
        case userID = "user-id"
        case authorizedLabels = "authorized-labels"
    }

    package init(name: String, userID: String? = nil, permissions: [String], authorizedLabels: [String], groups: [String] = [], validity: Int) {
        self.name = name
        self.userID = userID
        self.permissions = permissions
        self.authorizedLabels = authorizedLabels
        self.groups = groups
        self.validity = validity
    }

    /// Holds at least one of `required` (a rule's `a|b|c`).
    package func holdsAny(of required: [String]) -> Bool {
        required.contains(where: permissions.contains)
    }

    /// The plugin's label rule: `*` sees everything; otherwise the resource needs one authorized label.
    package func maySee(labels: [String]) -> Bool {
        authorizedLabels.contains("*") || labels.contains(where: authorizedLabels.contains)
    }
}
