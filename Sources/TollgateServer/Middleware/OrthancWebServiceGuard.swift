import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateKit

/// `orthanc.auth` on the Orthanc web-service routes: Basic credentials, as orthanc-auth-service
/// requires of the authorization plugin (`WebServiceUsername`/`WebServicePassword`). Without
/// configured credentials the routes are closed, not open: only `auth: none` opens them.
struct OrthancWebServiceGuard: RouterMiddleware {
    typealias Context = TollgateRequestContext

    private enum Check: Sendable {
        case open
        case basic(SecretDigest)
        case closed
    }

    private let check: Check

    init(config: OrthancConfig) {
        switch config.auth {
        case .none:
            check = .open
        case .basic:
            if let user = config.webserviceUsername, let password = config.webservicePassword {
                check = .basic(SecretDigest(BasicAuthorization.value(user: user, password: password.value)))
            } else {
                check = .closed
            }
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = refusal(request, context) { return refusal.response }
        return try await next(request, context)
    }

    /// Whether the request may reach the routes behind the guard; nothing is noted.
    func passes(_ request: Request) -> Bool {
        switch check {
        case .open: true
        case .basic(let expected): expected.matches(request.headers[.authorization] ?? "")
        case .closed: false
        }
    }

    /// The 401 for a request that does not pass, noted in the audit trail; nil for one that does.
    func refusal(_ request: Request, _ context: Context) -> Answer? {
        passes(request) ? nil : refuse(context)
    }

    /// The 401 for a request that did not pass, noted in the audit trail.
    func refuse(_ context: Context) -> Answer {
        switch check {
        case .basic:
            context.noteAudit(.adminAuthentication) { note in
                note.outcome = .denied
                note.reason = "the Orthanc web-service credentials were not valid"
            }
            return Self.refusal(
                "authentication to the web service failed: Orthanc must send orthanc.webservice_username/password as Basic credentials "
                    + "(Authorization.WebServiceUsername/WebServicePassword, or Tollgate.Username/Password for the filter)", context)
        case .open, .closed:
            return Self.refusal(
                "the Orthanc web-service routes are closed: set orthanc.webservice_username and orthanc.webservice_password (or orthanc.auth: none)",
                context)
        }
    }

    private static func refusal(_ message: String, _ context: Context) -> Answer {
        OrthancReplies.error(message, status: .unauthorized, requestID: context.requestID, headers: [.wwwAuthenticate: #"Basic realm="tollgate-orthanc""#])
    }
}
