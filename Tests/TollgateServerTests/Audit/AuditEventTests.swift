import Foundation
import Testing
@testable import TollgateServer
import TollgateConfiguration
import NIOCore
import TollgateKit

/// Every kind of audit event, in both formats: the documented members, nothing secret, and FHIR
/// records a real FHIR library accepts.
@Suite("audit events")
struct AuditEventTests {
    /// One event of `action` with every member it can carry set.
    static func sample(_ action: AuditAction, outcome: AuditEvent.Outcome = .allowed) -> AuditEvent {
        var event = AuditEvent(
            time: .init(seconds: 1_796_643_664, milliseconds: 7), category: action.category, action: action, outcome: outcome,
            status: outcome == .allowed ? 200 : 403, method: request(action).method, path: request(action).path, requestID: "req-\(action.rawValue)")
        switch action.category {
        case .access:
            event.subject = "radiologist"
            event.clientID = "viewer"
            event.name = "Dr. Example"
            event.issuer = "hospital"
        case .admin:
            event.admin = "admin.api_keys[0]"
        case .security:
            break
        }
        event.clientAddress = "10.1.2.3"
        event.peerAddress = "127.0.0.1"
        if action == .orthancAuthorize || action == .tokensValidate {
            event.resource = .init(level: "study", orthancID: "6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12", dicomUID: "1.2.3")
            event.permission = "view"
        }
        if action == .shareLinkCreate { event.shareLink = .init(type: "viewer-instant-link", studies: ["1.2.3", "1.2.4"], lifetimeSeconds: 3600) }
        if [.proxy, .token, .tokenInjection].contains(action) || action.category == .admin { event.target = "azure-dicom" }
        event.rule = action == .forwardAuth ? "studies-read" : nil
        event.reason = outcome == .allowed ? "ok" : "permission"
        event.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        return event
    }

    /// What each kind of record is typically about.
    static func request(_ action: AuditAction) -> (method: String, path: String) {
        switch action {
        case .forwardAuth, .tokensValidate: ("GET", "/dicom-web/studies/1.2.3")
        case .pluginAuthenticate: ("GET", "/api/users")
        case .orthancAuthorize: ("GET", "/studies/6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12")
        case .userProfile: ("POST", "/user/get-profile")
        case .proxy: ("GET", "/proxy/azure-dicom/studies")
        case .token: ("GET", "/token/azure-dicom")
        case .tokenInjection: ("GET", "/auth/outbound/azure-dicom")
        case .connectionCreate: ("POST", "/oauth/connections")
        case .connectionUpdate: ("PUT", "/oauth/connections/azure-dicom")
        case .connectionDelete: ("DELETE", "/oauth/connections/azure-dicom")
        case .connectionTest: ("POST", "/oauth/connections/azure-dicom/test")
        case .connectionAuthorize: ("POST", "/oauth/connections/azure-dicom/authorize")
        case .connectionCallback, .callbackRefused: ("GET", "/oauth/callback/azure-dicom")
        case .cacheEvict: ("POST", "/admin/cache/evict")
        case .rolesUpdate: ("PUT", "/settings/roles")
        case .shareLinkCreate: ("PUT", "/tokens/viewer-instant-link")
        case .keyRewrap: ("CLI", "tollgate registry rewrap")
        case .adminAuthentication: ("POST", "/oauth/connections")
        case .untrustedProxy, .conflictingFacts, .unknownConstraint: ("GET", "/auth")
        case .ambiguousPath: ("GET", "/auth")
        case .invalidShareToken: ("GET", "/studies/6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12")
        case .consoleSignIn, .consoleSignInRefused: ("GET", "/console/callback")
        case .consoleSignOut: ("POST", "/console/logout")
        }
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        #expect(bytes.last == UInt8(ascii: "\n") && bytes.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") }, "one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test(arguments: AuditAction.allCases)
    func jsonCarriesWhoWhatWhereOutcomeAndCorrelation(_ action: AuditAction) throws {
        let object = try Self.object(Self.sample(action).jsonLine())
        #expect(object["stream"] as? String == "audit" && object["v"] as? Int == AuditEvent.schemaVersion)
        #expect(object["ts"] as? String == "2026-12-07T11:41:04.007Z")
        #expect(object["category"] as? String == action.category.rawValue && object["action"] as? String == action.rawValue)
        #expect(object["outcome"] as? String == "allowed" && object["status"] as? Int == 200)
        let who = try #require(object["who"] as? [String: String])
        let from = try #require(object["from"] as? [String: String])
        let what = try #require(object["what"] as? [String: Any])
        #expect(from == ["client": "10.1.2.3", "proxy": "127.0.0.1"])
        #expect(what["method"] as? String == Self.request(action).method && what["path"] as? String == Self.request(action).path)
        #expect(object["request_id"] as? String == "req-\(action.rawValue)" && object["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        switch action.category {
        case .access: #expect(who == ["sub": "radiologist", "client_id": "viewer", "name": "Dr. Example", "issuer": "hospital"])
        case .admin: #expect(who == ["admin": "admin.api_keys[0]"])
        case .security: #expect(who.isEmpty)
        }
        if action == .shareLinkCreate {
            let link = try #require(what["share_link"] as? [String: Any])
            #expect(link["type"] as? String == "viewer-instant-link" && link["studies"] as? [String] == ["1.2.3", "1.2.4"])
            #expect(link["lifetime_seconds"] as? Int == 3600)
        }
        if action == .tokensValidate {
            #expect(
                what["resource"] as? [String: String] == ["level": "study", "orthanc_id": "6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12", "dicom_uid": "1.2.3"])
        }
    }

    /// docs/audit.schema.json names exactly the members the json format writes.
    @Test func theJSONSchemaDocumentsEveryMember() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let schema = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("docs/audit.schema.json"))) as? [String: Any])
        let properties = try #require(schema["properties"] as? [String: Any])
        var written = Set<String>()
        for action in AuditAction.allCases {
            for (key, value) in try Self.object(Self.sample(action).jsonLine()) {
                written.insert(key)
                if let nested = value as? [String: Any] {
                    for (inner, innerValue) in nested {
                        written.insert(key + "." + inner)
                        if let deeper = innerValue as? [String: Any] { written.formUnion(deeper.keys.map { key + "." + inner + "." + $0 }) }
                    }
                }
            }
        }
        var documented = Set<String>()
        func walk(_ properties: [String: Any], prefix: String) {
            for (key, value) in properties {
                documented.insert(prefix + key)
                if let inner = (value as? [String: Any])?["properties"] as? [String: Any] { walk(inner, prefix: prefix + key + ".") }
            }
        }
        walk(properties, prefix: "")
        #expect(
            written == documented,
            "written but undocumented: \(written.subtracting(documented).sorted()); documented but never written: \(documented.subtracting(written).sorted())")
        let actions = try #require(((properties["action"] as? [String: Any])?["enum"]) as? [String])
        #expect(Set(actions) == Set(AuditAction.allCases.map(\.rawValue)))
    }

    @Test(arguments: AuditAction.allCases)
    func fhirIsAnAuditEventInBALPPatterns(_ action: AuditAction) throws {
        for outcome in [AuditEvent.Outcome.allowed, .denied] {
            let resource = try Self.object(Self.sample(action, outcome: outcome).fhirLine())
            #expect(resource["resourceType"] as? String == "AuditEvent")
            #expect(resource["recorded"] as? String == "2026-12-07T11:41:04.007Z")
            #expect(resource["outcome"] as? String == (outcome == .allowed ? "0" : "4"))
            let type = try #require(resource["type"] as? [String: String])
            switch action {
            case .adminAuthentication: #expect(type["code"] == "110114")
            case _ where action.category == .security: #expect(type["code"] == "110113")
            default: #expect(type["code"] == "rest")
            }
            let agents = try #require(resource["agent"] as? [[String: Any]])
            #expect(agents.contains { $0["requestor"] as? Bool == true } && agents.contains { $0["requestor"] as? Bool == false })
            if action.category == .access {
                let user = try #require(agents.first { (($0["type"] as? [String: Any])?["coding"] as? [[String: String]])?.first?["code"] == "UserOauthAgent" })
                #expect(user["altId"] as? String == "viewer")
                #expect((resource["meta"] as? [String: [String]])?["profile"] == [AuditEvent.oauthProfile])
            }
            let entities = try #require(resource["entity"] as? [[String: Any]])
            #expect(entities.contains { (($0["what"] as? [String: Any])?["identifier"] as? [String: String])?["value"] == "req-\(action.rawValue)" })
        }
    }

    /// Every kind, allowed and denied, through fhir.resources (PyPI): `.ci/run` installs it and sets
    /// TOLLGATE_TEST_REQUIRE_FHIR; elsewhere the test runs when the library is importable.
    @Test func aFHIRLibraryAcceptsEveryKind() async throws {
        let required = ProcessInfo.processInfo.environment["TOLLGATE_TEST_REQUIRE_FHIR"] == "1"
        guard try await ChildProcess.run(["python3", "-c", "import fhir.resources.R4B.auditevent"]).status == 0 else {
            #expect(!required, "TOLLGATE_TEST_REQUIRE_FHIR is set but fhir.resources cannot be imported")
            return
        }
        var lines: [UInt8] = []
        for action in AuditAction.allCases {
            lines += Self.sample(action).fhirLine() + Self.sample(action, outcome: .denied).fhirLine()
            var bare = Self.sample(action, outcome: .denied)
            (bare.subject, bare.clientID, bare.name, bare.issuer, bare.admin, bare.clientAddress, bare.peerAddress) = (nil, nil, nil, nil, nil, nil, nil)
            bare.status = 503
            lines += bare.fhirLine()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let report = try await ChildProcess.run(["python3", root.appendingPathComponent("scripts/validate-fhir-audit.py").path], input: lines)
        #expect(report.status == 0, "\(report.output)")
        #expect(report.output.contains("\(AuditAction.allCases.count * 3) valid FHIR R4 AuditEvent records"), "\(report.output)")
    }

    /// docs/audit-examples.md: an example of every kind in both formats, exactly as Tollgate renders
    /// it (TOLLGATE_WRITE_AUDIT_EXAMPLES=1 rewrites it after a change to the formats).
    @Test func theDocumentedExamplesAreWhatTollgateWrites() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var text = """
            # Audit records: an example of every kind

            Generated from Tollgate's renderer (a test checks this file against it): each kind of record in the
            `json` format and, below it, the same record as `fhir`. [audit.md](audit.md) explains the members.


            """
        for category in AuditEvent.Category.allCases {
            text += "## \(category.rawValue)\n\n"
            for action in AuditAction.allCases where action.category == category {
                let event = Self.sample(action, outcome: category == .security ? .denied : .allowed)
                text += "### `\(action.rawValue)`\n\n```json\n" + String(decoding: event.jsonLine(), as: UTF8.self) + "```\n\n"
                text += "<details><summary>fhir</summary>\n\n```json\n" + String(decoding: event.fhirLine(), as: UTF8.self) + "```\n\n</details>\n\n"
            }
        }
        let path = root.appendingPathComponent("docs/audit-examples.md")
        if ProcessInfo.processInfo.environment["TOLLGATE_WRITE_AUDIT_EXAMPLES"] == "1" { try text.write(to: path, atomically: true, encoding: .utf8) }
        #expect(try String(contentsOf: path, encoding: .utf8) == text, "docs/audit-examples.md is stale: rerun with TOLLGATE_WRITE_AUDIT_EXAMPLES=1")
    }

    @Test func textFromCallersIsCleanedAndBounded() {
        #expect(AuditEvent.clean("a\u{0}b\nc\u{202E}d") == "abcd")
        #expect(AuditEvent.clean(String(repeating: "x", count: 1000))?.count == 256)
        #expect(AuditEvent.clean("\n\u{1}") == nil && AuditEvent.clean(nil) == nil)
    }

    @Test func syslogMessagesAreRFC5424AndOctetCounted() throws {
        let header = SyslogHeader(facility: 10, appName: "tollgate", hostname: "pacs-gw", processID: 42)
        let record = AuditRecord(Self.sample(.forwardAuth, outcome: .denied), format: .json)
        let message = String(decoding: header.message(record), as: UTF8.self)
        #expect(message.hasPrefix("<85>1 2026-12-07T11:41:04.007Z pacs-gw tollgate 42 access - {\"stream\":\"audit\""))
        #expect(!message.hasSuffix("\n"))
        let security = AuditRecord(Self.sample(.ambiguousPath), format: .json)
        #expect(String(decoding: header.message(security), as: UTF8.self).hasPrefix("<84>1 "), "warning for a security event")
        #expect(String(decoding: header.message(AuditRecord(Self.sample(.forwardAuth), format: .json)), as: UTF8.self).hasPrefix("<86>1 "))
        var buffer = ByteBuffer()
        header.frame(record, octetCounted: true, into: &buffer)
        let framed = String(buffer: buffer)
        #expect(framed == "\(message.utf8.count) \(message)")
    }
}
