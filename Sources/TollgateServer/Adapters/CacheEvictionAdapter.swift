import Foundation
import Hummingbird
import TollgateInbound
import TollgateKit
import TollgateRegistry

/// `POST /admin/cache/evict`: forget one token's cached decision at once (after revoking it at
/// the IdP), here and, through the registry's PostgreSQL, on every replica. The token may be
/// sent itself or as the SHA-256 of its exact text; only the digest is kept or passed on.
struct CacheEvictionAdapter {
    let cache: DecisionCache
    /// Nil without a registry store shared by replicas: the eviction is this process's only.
    let replicas: ReplicaMessages?
    let maxBodyBytes: Int

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.post("/admin/cache/evict") { request, context in
            context.noteAudit(.cacheEvict)
            let key: TokenKey
            do {
                key = try Self.key(from: try await request.collectBody(limit: maxBodyBytes))
            } catch let refusal as Refusal {
                return OutboundErrorReply.response("INVALID_REQUEST", refusal.message, status: .badRequest, requestID: context.requestID)
            } catch {
                return OutboundErrorReply.response(
                    "INVALID_REQUEST", "request body exceeds \(maxBodyBytes) bytes or is unreadable",
                    status: .badRequest, requestID: context.requestID)
            }
            context.noteAuditDetails { $0.target = "sha256:" + key.fingerprint }
            let evicted = cache.remove(key)
            var told = false
            if let replicas {
                do {
                    try await replicas.evictDecision(sha256Hex: key.sha256Hex)
                    told = true
                } catch {
                    return OutboundErrorReply.response(
                        "REGISTRY_UNAVAILABLE", "evicted here, but the other replicas could not be told",
                        status: .serviceUnavailable, requestID: context.requestID, headers: [.retryAfter: "5"])
                }
            }
            return Reply.json(
                JSONText.object([
                    ("evicted", .bool(evicted)), ("replicas_notified", .bool(told)), ("fingerprint", .string(key.fingerprint)),
                ]), headers: [.cacheControl: "no-store"])
        }
    }

    struct Refusal: Error {
        let message: String
    }

    /// `{"token": "…"}` or `{"sha256": "64 hex digits"}`, exactly one.
    static func key(from body: ByteBuffer) throws -> TokenKey {
        guard let object = try? StrictJSON.object(body.readableBytesView), object.count == 1 else {
            throw Refusal(message: #"send {"token": "…"} or {"sha256": "…"}"#)
        }
        if let token = object["token"]?.string, (1...16384).contains(token.utf8.count) {
            return TokenKey(token: token)
        }
        if let digest = object["sha256"]?.string, let key = TokenKey(sha256Hex: digest) {
            return key
        }
        throw Refusal(message: "token must be a non-empty string, sha256 64 hex digits")
    }
}
