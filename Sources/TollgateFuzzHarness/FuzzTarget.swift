import Dispatch
import Foundation
import NIOCore
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// The parsers that read what the network and the config file send, each as a libFuzzer target:
/// any input must give an answer or an error, never a trap, a hang or unbounded memory.
/// `scripts/fuzz.sh` runs them under `-sanitize=fuzzer`; a test replays the seed corpus.
package enum FuzzTarget: String, CaseIterable, Sendable {
    case bearer
    case jwsPeek = "jws-peek"
    case introspection
    case tokenEndpoint = "token-endpoint"
    case jwks
    case substitution
    case orthanc
    case forwardFacts = "forward-facts"
    case dpop

    package func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .bearer:
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            _ = BearerToken.extract(fromAuthorization: lines)
            if let token = BearerToken.fromAuthorization(text) { _ = BearerToken.isWellFormed(token) }
            _ = BearerToken.isWellFormed(text)
        case .jwsPeek:
            _ = try? CompactJWS(text)
        case .introspection:
            if let answer = try? IntrospectionResponse(json: data) {
                _ = Principal(claims: answer.claims).claimsJSON.count
            }
        case .tokenEndpoint:
            let parser = TokenResponseParser(
                defaultExpiresIn: 3600,
                scrubber: SecretScrubber(
                    secrets: ["fuzz-secret"], basicPairs: [("fuzz-client", "fuzz-secret")]))
            let status = UInt(data.first ?? 0) + 100
            let now = Double(data.count)
            if case .success(let token) = parser.parse(status: status, body: ByteBuffer(bytes: data.dropFirst()), retryAfter: nil, now: now) {
                _ = token.secondsLeft(at: now)
            }
            _ = HTTPDate.retryAfterSeconds(text, now: now)
            _ = DeltaSeconds.parse(text)
        case .jwks:
            Self.blocking { _ = await VerificationKey.parse(jwks: Data(data), allowed: JWSAlgorithmName.allCases) }
        case .substitution:
            let substitution = EnvironmentSubstitution(environment: ["SET": "value", "EMPTY": ""])
            _ = try? substitution.expand(text, path: [])
            _ = try? ConfigLoader.parse(yaml: text, environment: ["SET": "value"])
        case .forwardFacts:
            // A canonical path is a fixed point with no separator left for a backend to find.
            if case .success(let path) = RequestPath.canonical(Substring(text)) {
                precondition(try! RequestPath.canonical(Substring(path)).get() == path, "canonical form is not a fixed point")
                precondition(
                    !path.contains("\\") && !path.contains(";") && !path.contains("%2F") && !path.contains("%5C") && !path.contains("//")
                        && !path.split(separator: "/").contains(".."), "canonical form keeps a separator")
            }
            _ = try? AuthURLConstraints(query: Substring(text))
            _ = RequestFacts.bareHost(Substring(text))
        case .dpop:
            // The first line is a proof, the rest a `cnf` member; both are what a client controls.
            let proof = String(text.prefix { $0 != "\n" })
            _ = TokenBinding(cnf: try? StrictJSON.parse(Array(text.utf8.drop { $0 != UInt8(ascii: "\n") })))
            _ = ProofTargetURI(text)
            _ = BearerToken.extractWithScheme(fromAuthorization: [text])
            Self.blocking {
                let presentation = TokenPresentation(
                    scheme: .dpop, proofs: [proof], method: "GET", uri: "https://pacs.example/dicom-web/studies")
                _ = await Self.dpopVerifier.check(
                    presentation, token: "fuzz-token", boundTo: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", algorithms: JWSAlgorithmName.allCases)
            }
        case .orthanc:
            _ = OrthancRolesDocument.parse(Data(data), at: "roles")
            _ = OrthancResourceAccess.chain(uri: text, getArguments: ["StudyInstanceUID": text], dicomWebRoot: "/dicom-web/")
            _ = Self.permissionTable?.required(method: "get", uri: text)
            _ = ShareTokenDates.parse(text)
            _ = try? CompactJWS(text, claimPaths: ClaimPaths(["realm_access.roles", "resource_access.orthanc.roles"]))
        }
    }

    private static let dpopVerifier = DPoPProofVerifier(settings: DPoPConfig(), clock: ManualClock(1_765_000_000))
    private static let permissionTable = try? PermissionTable(rules: PermissionTable.defaultRules, dicomWebRoot: "/dicom-web/")

    /// The JWKS parser is async (jwt-kit's key collection is an actor); a fuzz input runs to its end.
    private static func blocking(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await body()
            done.signal()
        }
        done.wait()
    }
}
