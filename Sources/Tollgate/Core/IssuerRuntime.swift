import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization

/// One configured issuer at run time: where to introspect, whether it has been reached, and
/// the policy its tokens must meet.
public final class IssuerRuntime: Sendable {
    public let index: Int
    public let name: String
    public let issuerURL: String
    public let policy: Policy
    public let maxTokenBytes: Int
    private let discoveryEnabled: Bool
    private let configuredEndpoint: String?
    private let introspection: IntrospectionClient
    private let clock: any TollgateClock
    private let recorder: any DecisionRecorder
    private let state: Mutex<State>

    struct State {
        var endpoint: String?
        var reached = false
        var problem: String? = "not contacted yet"
    }

    public init(index: Int, config: IssuerConfig, issuerURL: String, http: HTTPClient, clock: any TollgateClock, recorder: any DecisionRecorder) {
        self.index = index
        self.name = config.name
        self.issuerURL = issuerURL
        self.policy = Policy(audiences: config.audiences, requiredScopes: config.requiredScopes, leewaySeconds: config.leewaySeconds)
        self.maxTokenBytes = config.maxTokenBytes
        self.discoveryEnabled = config.discovery
        let introspectionConfig = config.introspection!
        self.configuredEndpoint = introspectionConfig.endpoint
        self.introspection = IntrospectionClient(
            http: http,
            credentials: ClientCredentials(clientID: introspectionConfig.clientID, secret: introspectionConfig.clientSecret, method: introspectionConfig.authMethod),
            timeout: .milliseconds(Int64(introspectionConfig.timeoutMS))
        )
        self.clock = clock
        self.recorder = recorder
        self.state = Mutex(State(endpoint: config.discovery ? nil : introspectionConfig.endpoint))
    }

    /// Nil once discovery and introspection have both answered; otherwise what is still wrong.
    public var notReadyReason: String? {
        state.withLock { $0.reached ? nil : "issuer \(name): \($0.problem ?? "not reached")" }
    }

    /// Discovers endpoints (when asked to) and proves the introspection endpoint answers and
    /// accepts Tollgate's client credentials. Returns nil on success, else the problem.
    public func prepare() async -> String? {
        var endpoint = configuredEndpoint
        if discoveryEnabled {
            switch await Discovery.fetch(issuer: issuerURL, client: introspection.http, timeout: introspection.timeout) {
            case .failure(let error):
                return setProblem(error.description)
            case .success(let document):
                endpoint = configuredEndpoint ?? document.introspectionEndpoint
            }
        }
        guard let endpoint else { return setProblem("discovery document has no introspection_endpoint") }
        state.withLock { $0.endpoint = endpoint }
        switch await introspection.introspect("tollgate-readiness-probe", endpoint: endpoint) {
        case .active, .inactive:
            state.withLock { $0.reached = true; $0.problem = nil }
            return nil
        case .indeterminate(let reason):
            return setProblem("introspection endpoint: \(reason.message)")
        }
    }

    private func setProblem(_ problem: String) -> String {
        state.withLock { $0.problem = problem }
        return problem
    }

    /// Asks the issuer about a token. Time and issuer are checked here so that an expired or
    /// foreign token is cached as a refusal; audience and scope are left to `Policy` per request.
    func validate(_ token: String) async -> TokenStatus {
        guard let endpoint = state.withLock({ $0.endpoint }) else {
            return .indeterminate(.notReady, issuer: index)
        }
        let started = ContinuousClock.now
        let outcome = await introspection.introspect(token, endpoint: endpoint)
        recorder.recordIntrospection(issuer: name, outcome: outcome.label, seconds: (ContinuousClock.now - started).seconds)
        switch outcome {
        case .indeterminate(let reason):
            return .indeterminate(reason, issuer: index)
        case .inactive:
            markReached()
            return .rejected(.inactive, issuer: index)
        case .active(var claims):
            markReached()
            if let iss = claims.issuer, iss != issuerURL { return .rejected(.issuerMismatch, issuer: index) }
            claims.issuer = issuerURL
            if let exp = claims.expiresAt, Double(exp) + policy.leeway <= clock.now() {
                return .rejected(.expired, issuer: index)
            }
            return .active(Principal(claims: claims), issuer: index)
        }
    }

    private func markReached() {
        state.withLock { if !$0.reached { $0.reached = true; $0.problem = nil } }
    }
}

extension Duration {
    var seconds: Double {
        let (s, attos) = components
        return Double(s) + Double(attos) / 1e18
    }
}
