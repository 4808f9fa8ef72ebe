import Foundation
import TollgateInbound
import TollgateKit

/// One audit record: who did what, from where, with what outcome, and how to find the request
/// again. Every text member came from a caller or an IdP and is cleaned (printable ASCII,
/// bounded) when it is set; none ever holds a token, secret, key or code.
struct AuditEvent: Sendable, Equatable {
    /// The schema version written as `v` (docs/audit.md); bumped when a member changes meaning.
    static let schemaVersion = 1

    enum Category: String, Sendable, CaseIterable {
        /// An access decision on a protected route, or an outbound token handed out.
        case access
        /// An administrative act: registry, cache, roles, share links, keys.
        case admin
        /// Something an operator must look at: failed admin authentication, a refused proxy or path.
        case security
    }

    enum Outcome: String, Sendable {
        case allowed, denied
    }

    struct Time: Sendable, Equatable {
        let seconds: Int
        let milliseconds: Int

        static func now() -> Time {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return Time(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec / 1_000_000))
        }
    }

    /// An Orthanc resource a decision was about.
    struct Resource: Sendable, Equatable {
        var level: String?
        var orthancID: String?
        var dicomUID: String?

        init(level: String?, orthancID: String?, dicomUID: String?) {
            self.level = level
            self.orthancID = orthancID
            self.dicomUID = dicomUID
        }

        init(_ resource: OrthancResource) {
            self.init(
                level: AuditEvent.clean(resource.level, limit: 16), orthancID: AuditEvent.clean(resource.orthancID, limit: 128),
                dicomUID: AuditEvent.clean(resource.dicomUID, limit: 128))
        }
    }

    /// A share link created through Orthanc's web-service protocol.
    struct ShareLink: Sendable, Equatable {
        var type: String
        var studies: [String]
        var lifetimeSeconds: Int?
    }

    var time: Time
    var category: Category
    var action: AuditAction
    var outcome: Outcome
    var status: Int

    // who
    var subject: String?
    var clientID: String?
    var name: String?
    var issuer: String?
    /// For administrative acts: the API key's place, the certificate's name or the bearer's subject.
    var admin: String?

    // from where
    var clientAddress: String?
    var peerAddress: String?

    // what
    var method: String
    var path: String
    var resource: Resource?
    var shareLink: ShareLink?
    /// The outbound server or registry connection acted on.
    var target: String?

    // outcome
    var rule: String?
    var permission: String?
    var reason: String?

    // correlation
    var requestID: String
    var traceID: String?

    init(
        time: Time = .now(), category: Category, action: AuditAction, outcome: Outcome, status: Int, method: String, path: String,
        requestID: String
    ) {
        self.time = time
        self.category = category
        self.action = action
        self.outcome = outcome
        self.status = status
        self.method = method
        self.path = path
        self.requestID = requestID
    }

    /// Text from a caller or an IdP, as an audit member holds it.
    static func clean(_ text: String?, limit: Int = 256) -> String? {
        guard let text else { return nil }
        let cleaned = PrintableText.clean(text, limit: limit)
        return cleaned.isEmpty ? nil : cleaned
    }
}

/// What was done, as the `action` member names it. The category and the FHIR codes follow from it.
enum AuditAction: String, Sendable, CaseIterable {
    // access decisions and hand-outs
    case forwardAuth = "auth"
    case pluginAuthenticate = "plugin.authenticate"
    case orthancAuthorize = "orthanc.authorize"
    case tokensValidate = "orthanc.tokens.validate"
    case userProfile = "orthanc.user.get_profile"
    case proxy = "outbound.proxy"
    case token = "outbound.token"
    case tokenInjection = "outbound.inject"
    // administrative acts
    case connectionCreate = "registry.create"
    case connectionUpdate = "registry.update"
    case connectionDelete = "registry.delete"
    case connectionTest = "registry.test"
    case connectionAuthorize = "registry.authorize"
    case connectionCallback = "registry.callback"
    case cacheEvict = "cache.evict"
    case rolesUpdate = "orthanc.roles.update"
    case shareLinkCreate = "orthanc.share_link.create"
    case keyRewrap = "registry.key_rewrap"
    // security events
    case adminAuthentication = "admin.authentication"
    case untrustedProxy = "forward_auth.untrusted_proxy"
    case ambiguousPath = "forward_auth.ambiguous_path"
    case conflictingFacts = "forward_auth.conflicting_facts"
    case unknownConstraint = "forward_auth.unknown_constraint"
    case invalidShareToken = "orthanc.share_token.invalid"
    case callbackRefused = "registry.callback.refused"
    case consoleSignIn = "console.sign_in"
    case consoleSignInRefused = "console.sign_in.refused"
    case consoleSignOut = "console.sign_out"

    var category: AuditEvent.Category {
        switch self {
        case .forwardAuth, .pluginAuthenticate, .orthancAuthorize, .tokensValidate, .userProfile, .proxy, .token, .tokenInjection: .access
        case .connectionCreate, .connectionUpdate, .connectionDelete, .connectionTest, .connectionAuthorize, .connectionCallback, .cacheEvict, .rolesUpdate,
            .shareLinkCreate, .keyRewrap:
            .admin
        case .adminAuthentication, .untrustedProxy, .ambiguousPath, .conflictingFacts, .unknownConstraint, .invalidShareToken, .callbackRefused,
            .consoleSignIn, .consoleSignInRefused, .consoleSignOut:
            .security
        }
    }
}
