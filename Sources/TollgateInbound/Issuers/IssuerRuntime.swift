package import AsyncHTTPClient
package import Logging
import NIOCore
import Synchronization
package import TollgateConfiguration
package import TollgateKit

/// One configured issuer at run time: its endpoints (configured or discovered), how it validates
/// tokens (introspection, local JWT, or both), whether it has been reached, and its policy.
package final class IssuerRuntime: Sendable {
    package let index: Int
    package let name: String
    package let issuerURL: String
    package let mode: IssuerMode
    package let policy: Policy
    package let maxTokenBytes: Int
    /// The issuer's `algorithms`: its tokens' and the DPoP proofs' for its key-bound tokens.
    package let algorithms: [JWSAlgorithmName]
    private let discoveryEnabled: Bool
    private let http: HTTPClient
    private let introspection: IntrospectionPart?
    package let jwks: JWKSKeySet?
    /// The JWKS downloader behind `jwks`, which discovery tells where the keys are.
    package let jwksFetcher: JWKSFetcher?
    private let jwt: JWTValidator?
    private let clock: any TollgateClock
    private let recorder: any DecisionRecorder
    private let state: Mutex<State>
    private let claimLists = StringListInterner()
    private let userinfo: UserinfoPart?
    private let logger: Logger

    private struct UserinfoPart: Sendable {
        let client: UserinfoClient
        let configuredEndpoint: String?
        let failClosed: Bool
    }

    private struct IntrospectionPart: Sendable {
        let client: IntrospectionClient
        let configuredEndpoint: String?
        let fallbackEndpoint: String?
    }

    struct State {
        var userinfoEndpoint: String?
        var introspectionEndpoint: String?
        var introspectionReached = false
        var problem: String? = "not contacted yet"
    }

    static let discoveryTimeout: TimeAmount = .seconds(5)

    package init(
        index: Int, config: IssuerConfig, issuerURL: String, http: HTTPClient, clock: any TollgateClock,
        recorder: any DecisionRecorder & JWKSObserver, claimPaths: ClaimPaths = .none, logger: Logger = Logger(label: "tollgate")
    ) {
        self.index = index
        self.name = config.name
        self.issuerURL = issuerURL
        self.mode = config.mode
        self.policy = Policy(audiences: config.audiences, requiredScopes: config.requiredScopes, leewaySeconds: config.leewaySeconds)
        self.maxTokenBytes = config.maxTokenBytes
        self.algorithms = config.algorithms
        self.discoveryEnabled = config.discovery
        self.http = http
        self.clock = clock
        self.recorder = recorder
        self.logger = logger
        userinfo =
            config.userinfo.enabled
            ? UserinfoPart(
                client: UserinfoClient(http: http, timeout: .configured(milliseconds: config.userinfo.timeoutMS), claims: config.userinfo.claims),
                configuredEndpoint: config.userinfo.endpoint, failClosed: config.userinfo.onError == .indeterminate)
            : nil
        if let settings = config.introspection, config.mode != .jwt {
            introspection = IntrospectionPart(
                client: IntrospectionClient(
                    http: http,
                    credentials: ClientCredentials(clientID: settings.clientID, secret: settings.clientSecret, method: settings.authMethod.credentialsMethod),
                    timeout: .configured(milliseconds: settings.timeoutMS),
                    claimPaths: claimPaths
                ),
                configuredEndpoint: settings.endpoint,
                fallbackEndpoint: settings.fallbackEndpoint
            )
        } else {
            introspection = nil
        }
        if config.mode != .introspection {
            let fetcher = JWKSFetcher(
                uri: config.jwksURI, settings: config.jwks, allowed: config.algorithms,
                http: http, timeout: Self.discoveryTimeout, clock: clock)
            let keySet = JWKSKeySet(issuerName: config.name, source: fetcher, settings: config.jwks, clock: clock, observer: recorder)
            jwksFetcher = fetcher
            jwks = keySet
            jwt = JWTValidator(
                issuerURL: issuerURL, allowed: Set(config.algorithms), requireTyp: config.requireTyp,
                keys: keySet, leeway: Double(config.leewaySeconds), clock: clock)
        } else {
            jwksFetcher = nil
            jwks = nil
            jwt = nil
        }
        state = Mutex(
            State(
                userinfoEndpoint: config.userinfo.endpoint,
                introspectionEndpoint: config.discovery ? nil : config.introspection?.endpoint))
    }

    package var introspects: Bool { introspection != nil }
    package var verifiesJWTs: Bool { jwt != nil }

    /// The last problem an IdP call of this issuer had (discovery, introspection), nil once it answers.
    package var lastProblem: String? {
        guard introspection != nil || discoveryEnabled && needsDiscovery else { return nil }
        return state.withLock { $0.problem }
    }

    /// Nil once every part this issuer needs has answered; otherwise what is still missing.
    package var notReadyReason: String? {
        if let problem = state.withLock({ $0.introspectionReached || introspection == nil ? nil : ($0.problem ?? "not reached") }) {
            return "issuer \(name): \(problem)"
        }
        if let jwks, let problem = jwks.notReadyReason { return "issuer \(name): \(problem)" }
        return nil
    }

    /// Discovers endpoints (when asked to), proves the introspection endpoint answers and accepts
    /// Tollgate's credentials, and loads the JWKS. Returns nil on success, else the problem.
    package func prepare() async -> String? {
        if discoveryEnabled, needsDiscovery {
            switch await Discovery.fetch(issuer: issuerURL, client: http, timeout: Self.discoveryTimeout) {
            case .failure(let error):
                // Discovery is tried first; a fallback endpoint (seed 003's `/oauth/introspect`) is the second choice.
                guard let fallback = introspection?.fallbackEndpoint else { return setProblem(error.description) }
                state.withLock { $0.introspectionEndpoint = fallback }
                if jwks != nil, jwksFetcher?.hasURI != true { return setProblem(error.description) }
            case .success(let document):
                if let introspection {
                    let endpoint = introspection.configuredEndpoint ?? document.introspectionEndpoint ?? introspection.fallbackEndpoint
                    state.withLock { $0.introspectionEndpoint = endpoint }
                }
                if let uri = document.jwksURI { jwksFetcher?.setURI(uri) }
                if let userinfo, userinfo.configuredEndpoint == nil {
                    state.withLock { $0.userinfoEndpoint = document.userinfoEndpoint }
                }
            }
        }
        if let introspection, !state.withLock({ $0.introspectionReached }) {
            guard let endpoint = state.withLock({ $0.introspectionEndpoint }) else {
                return setProblem("discovery document has no introspection_endpoint")
            }
            switch await introspection.client.introspect("tollgate-readiness-probe", endpoint: endpoint) {
            case .active, .inactive:
                state.withLock {
                    $0.introspectionReached = true; $0.problem = nil
                }
            case .indeterminate(let reason):
                return setProblem("introspection endpoint: \(reason.message)")
            }
        }
        if let jwks, jwks.currentKeys() == nil {
            guard jwksFetcher?.hasURI == true else { return setProblem("discovery document has no jwks_uri") }
            if case .failed(let problem) = await jwks.refresh() { return problem }
        }
        return nil
    }

    private var needsDiscovery: Bool {
        let introspectionMissing = introspection != nil && state.withLock { $0.introspectionEndpoint == nil }
        return introspectionMissing || (jwksFetcher.map { !$0.hasURI } ?? false)
    }

    private func setProblem(_ problem: String) -> String {
        state.withLock { $0.problem = problem }
        return problem
    }

    /// Verifies a JWT this issuer signed (its unverified `iss` routed it here).
    func validateJWT(_ jws: CompactJWS, token: String) async -> TokenStatus {
        guard let jwt else { return .rejected(.unknownIssuer, issuer: index) }
        return await enriched(claimLists.interning(await jwt.validate(jws, issuer: index)), token: token)
    }

    /// Asks the issuer about a token. Time and issuer are checked here so that an expired or
    /// foreign token is cached as a refusal; audience and scope are left to `Policy` per request.
    func introspect(_ token: String) async -> TokenStatus {
        guard let introspection else { return .rejected(.unknownIssuer, issuer: index) }
        guard let endpoint = state.withLock({ $0.introspectionEndpoint }) else {
            return .indeterminate(.notReady, issuer: index)
        }
        let started = ContinuousClock.now
        let outcome = await introspection.client.introspect(token, endpoint: endpoint)
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
            return await enriched(claimLists.interning(.active(Principal(claims: claims), issuer: index)), token: token)
        }
    }

    /// Adds the userinfo answer to an active token's claims, once per cache miss (the result is
    /// cached with the decision and lives no longer). A failure serves the token's own claims, or
    /// makes no decision, as `on_error` says.
    private func enriched(_ status: TokenStatus, token: String) async -> TokenStatus {
        guard let userinfo, case .active(let principal, let issuer) = status else { return status }
        guard let endpoint = state.withLock({ $0.userinfoEndpoint }) else {
            return userinfoFailed("no userinfo endpoint (discovery has not named one)", label: "no_endpoint", status: status, part: userinfo)
        }
        let started = ContinuousClock.now
        let result = await userinfo.client.fetch(token: token, endpoint: endpoint, subject: principal.claims.subject)
        let seconds = (ContinuousClock.now - started).seconds
        switch result {
        case .success(let answer):
            recorder.recordUserinfo(issuer: name, outcome: "ok", seconds: seconds)
            var claims = principal.claims
            claims.enrich(with: answer)
            return .active(Principal(claims: claims), issuer: issuer)
        case .failure(let failure):
            recorder.recordUserinfo(issuer: name, outcome: failure.label, seconds: seconds)
            return userinfoFailed(failure.description, label: failure.label, status: status, part: userinfo)
        }
    }

    private func userinfoFailed(_ problem: String, label: String, status: TokenStatus, part: UserinfoPart) -> TokenStatus {
        logger.warning(
            "userinfo failed",
            metadata: [
                "issuer": .string(name), "problem": .string(problem), "on_error": .string(part.failClosed ? "indeterminate" : "ignore"),
            ])
        return part.failClosed ? .indeterminate(.userinfoUnavailable, issuer: index) : status
    }

    private func markReached() {
        state.withLock { if !$0.introspectionReached { $0.introspectionReached = true; $0.problem = nil } }
    }
}
