import NIOCore
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// RFC 7009 at the IdP for the tokens a connection gave up: on delete, and when a new
/// authorization replaced them (or its ID token was refused). Best effort: a failure never
/// blocks what caused it; it is logged at warning and counted.
extension ConnectionTokens {
    func revoke(_ token: AccessToken, settings: ConnectionSettings, secrets: ConnectionSecrets, reason: String) async {
        await revoke(refreshToken: token.refreshToken, accessToken: token.value, settings: settings, secrets: secrets, reason: reason)
    }

    func revoke(
        refreshToken: String? = nil, accessToken: String? = nil, settings: ConnectionSettings, secrets: ConnectionSecrets,
        reason: String
    ) async {
        let tokens: [(String, RuntimeTokenRevocation.Hint)] = [(refreshToken, .refreshToken), (accessToken, .accessToken)]
            .compactMap { token, hint in token.map { ($0, hint) } }
        guard !tokens.isEmpty else { return }
        guard let endpoint = await revocationEndpoint(settings), let authentication = Self.clientAuthentication(settings, secrets) else {
            for (_, hint) in tokens { observer.tokenRevoked(tokenType: hint.rawValue, result: "no_endpoint") }
            logger.info(
                "no revocation endpoint known: tokens left to expire at the IdP",
                metadata: ["client_id": .string(settings.clientID), "reason": .string(reason)])
            return
        }
        let revocation = RuntimeTokenRevocation(endpoint: endpoint, authentication: authentication, timeoutMS: timeoutMS, http: http)
        // The refresh token first: revoking it commonly ends the grant's access tokens too.
        for (token, hint) in tokens {
            let outcome = await revocation.revoke(token, hint: hint, now: clock.now())
            observer.tokenRevoked(tokenType: hint.rawValue, result: outcome.label)
            if case .refused(let why) = outcome {
                logger.warning(
                    "token revocation failed",
                    metadata: [
                        "client_id": .string(settings.clientID), "token_type": .string(hint.rawValue), "reason": .string(reason),
                        "endpoint": .string(URLRedaction.redacted(endpoint)), "error": .string(why),
                    ])
            }
        }
    }

    /// The connection's `revocation_url`, else what its issuer's discovery document names.
    private func revocationEndpoint(_ settings: ConnectionSettings) async -> String? {
        if let configured = settings.revocationURL { return configured }
        guard let issuer = settings.issuer else { return nil }
        guard case .success(let document) = await Discovery.fetch(issuer: issuer, client: http, timeout: .configured(milliseconds: timeoutMS)),
            let endpoint = document.revocationEndpoint, TollgateConfig.isHTTPURL(endpoint)
        else { return nil }
        return endpoint
    }
}
