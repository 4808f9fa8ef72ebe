import Crypto
import Foundation
import JWTKit
package import TollgateConfiguration
package import TollgateKit

/// Resource ("share") tokens: what `PUT /tokens/{type}` signs and `/tokens/validate` grants. They
/// are Tollgate's own HS256 JWTs, verified by jwt-kit against Tollgate's key only, so a user's
/// OAuth token, a token with another algorithm or `alg: none` never passes as one.
package final class ShareTokens: Sendable {
    /// orthanc-auth-service's token types.
    package static let types: Set<String> = [
        "osimis-viewer-publication", "stone-viewer-publication", "ohif-viewer-publication", "volview-viewer-publication",
        "meddream-viewer-publication", "meddream-instant-link", "viewer-instant-link", "download-instant-link",
    ]
    static let maxResources = 100
    static let maxIDLength = 256
    static let kid = JWKIdentifier(string: "tollgate-share")

    package enum Inspection: Sendable, Equatable {
        /// `expiresAt` nil: the token never expires.
        case valid(type: String, resources: [OrthancResource], serverID: String?, expiresAt: Int?)
        case expired(type: String)
        case invalid
    }

    package struct Created: Sendable {
        package let token: String
        package let url: String?
        package let request: CreationRequest
        package let expiresAt: Int?
        /// Seconds from creation to expiry (nil: never expires).
        package let lifetimeSeconds: Int?
    }

    package enum CreationError: Error, Sendable, Equatable {
        case badRequest(String)
    }

    private let keys: JWTKeyCollection
    private let config: ShareTokensConfig
    private let links: ShareLinks
    private let clock: any TollgateClock
    private let verified = VerifiedShareTokens(capacity: 4096)

    package init(config: ShareTokensConfig, clock: any TollgateClock) async throws {
        let key: SymmetricKey
        if let inline = config.key {
            key = SymmetricKey(data: Data(inline.value.utf8))
        } else if let file = config.keyFile {
            guard let data = FileManager.default.contents(atPath: file), data.count >= 32 else {
                throw ConfigErrors(errors: [ConfigError(path: "orthanc.share_tokens.key_file", message: "needs a readable file of at least 32 bytes")])
            }
            key = SymmetricKey(data: data)
        } else {
            key = SymmetricKey(size: .bits256)
        }
        keys = await JWTKeyCollection().add(hmac: HMACKey(key: key), digestAlgorithm: .sha256, kid: Self.kid)
        self.config = config
        links = ShareLinks(config: config)
        self.clock = clock
    }

    /// Does the token grant `method` on the resource `accessChain` names, at any of the levels
    /// given (the resource and its parents: a study's token opens its series)? Bound to the
    /// `server-id` it was made for. Only `get`: a link opens or downloads, never changes or deletes.
    package func grants(_ inspection: Inspection, method: String, accessChain: [OrthancResource], serverID: String?) -> Bool {
        guard case .valid(_, let resources, let boundServer, _) = inspection, method == "get", !accessChain.isEmpty else { return false }
        if let boundServer, boundServer != serverID { return false }
        return accessChain.contains { access in resources.contains { $0.covers(access) } }
    }

    package func inspect(_ token: String) async -> Inspection {
        if let settled = settledInspection(token) { return settled }
        guard let payload = try? await keys.verify(token, as: ShareTokenPayload.self) else { return .invalid }
        let known = VerifiedShareTokens.Verified(type: payload.type, resources: payload.resources, serverID: payload.serverID, expiresAt: payload.exp)
        verified.remember(TokenKey(token: token), known)
        return inspection(of: known)
    }

    /// The inspection when it needs no wait: a token too large to be one, or one verified before;
    /// nil when its signature is still to be checked.
    package func settledInspection(_ token: String) -> Inspection? {
        guard token.utf8.count <= Self.maxTokenBytes else { return .invalid }
        return verified.lookup(TokenKey(token: token)).map(inspection(of:))
    }

    private static let maxTokenBytes = 16384

    private func inspection(of known: VerifiedShareTokens.Verified) -> Inspection {
        if let exp = known.expiresAt, Double(exp) <= clock.now() { return .expired(type: known.type) }
        return .valid(type: known.type, resources: known.resources, serverID: known.serverID, expiresAt: known.expiresAt)
    }

    /// Seconds a grant may be cached: what is left of the token, at most `cap`.
    package func secondsLeft(_ inspection: Inspection, cap: Int) -> Int {
        guard case .valid(_, _, _, let expiresAt?) = inspection else { return cap }
        return max(0, min(cap, expiresAt - Int(clock.now().rounded(.down))))
    }

    package func create(type: String, request: CreationRequest) async throws(CreationError) -> Created {
        guard Self.types.contains(type) else {
            throw .badRequest("unknown token type (use one of \(Self.types.sorted().joined(separator: ", ")))")
        }
        if let declared = request.type, declared != type { throw .badRequest("'type' must match the URL's /tokens/{type}") }
        try request.check()
        try checkEnabled(type, request.resources)
        let now = Int(clock.now().rounded(.down))
        let expiresAt = try request.expiry(now: now, defaultSeconds: config.defaultValiditySeconds, maxSeconds: config.maxValiditySeconds)
        let payload = ShareTokenPayload(
            iss: ShareTokenPayload.issuer, type: type, resources: request.resources, serverID: request.serverID,
            id: request.id, iat: now, exp: expiresAt)
        let token: String
        do {
            token = try await keys.sign(payload, kid: Self.kid)
        } catch {
            throw .badRequest("cannot sign the token")
        }
        var echoed = request
        echoed.type = type
        echoed.expirationDate = expiresAt.map(ShareTokenDates.render)
        echoed.validityDuration = nil
        return Created(
            token: token, url: links.url(type: type, resources: request.resources, token: token, direct: false),
            request: echoed, expiresAt: expiresAt, lifetimeSeconds: expiresAt.map { max(0, $0 - now) })
    }

    /// Where `/tokens/decode` sends a publication's visitor: straight to the viewer.
    package func redirectURL(type: String, resources: [OrthancResource], token: String) -> String? {
        links.url(type: type, resources: resources, token: token, direct: true)
    }

    /// orthanc-auth-service refuses a type whose viewer it cannot link to; so does Tollgate.
    private func checkEnabled(_ type: String, _ resources: [OrthancResource]) throws(CreationError) {
        switch type {
        case "osimis-viewer-publication", "stone-viewer-publication", "volview-viewer-publication":
            guard config.publicOrthancRoot != nil else { throw .badRequest("'\(type)' links are disabled: set orthanc.share_tokens.public_orthanc_root") }
        case "ohif-viewer-publication":
            guard config.publicOHIFRoot != nil else { throw .badRequest("'\(type)' links are disabled: set orthanc.share_tokens.public_ohif_root") }
        case "meddream-viewer-publication":
            guard config.publicLandingRoot != nil else { throw .badRequest("'\(type)' links are disabled: set orthanc.share_tokens.public_landing_root") }
        case "meddream-instant-link":
            throw .badRequest("'meddream-instant-link' tokens come from MedDream's own token service, which Tollgate does not call")
        default:
            break
        }
        guard ShareLinks.hasNeededIDs(type: type, resources: resources, ohif: config.ohifDataSource) else {
            throw .badRequest("'\(type)' links need \(ShareLinks.neededID(type: type, ohif: config.ohifDataSource)) on every resource")
        }
    }
}
