import TollgateKit

/// The `fhir` format: an HL7 FHIR R4 AuditEvent per line, in IHE BALP's patterns — a RESTful
/// operation typed by its interaction, the OAuth user agent of OAUTHaccessTokenUse (Minimal), the
/// request id as a BALP `XrequestId` entity, and DICOM's Security Alert (110113) and User
/// Authentication (110114) for security events.
extension AuditEvent {
    static let oauthProfile = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.OAUTHaccessTokenUse.Minimal"

    func fhirLine() -> [UInt8] {
        Array((JSONText.object(fhirMembers()) + "\n").utf8)
    }

    func fhirMembers() -> [(String, JSONText.Value)] {
        let interaction = interaction
        var members: [(String, JSONText.Value)] = [("resourceType", .string("AuditEvent"))]
        if subject != nil || clientID != nil {
            members.append(("meta", .raw(JSONText.object([("profile", .strings([Self.oauthProfile]))]))))
        }
        members.append(("type", Self.coding(eventType)))
        if let subtype = eventSubtype { members.append(("subtype", .raw("[" + JSONText.render(Self.coding(subtype)) + "]"))) }
        members.append(("action", .string(interaction.action)))
        members.append(("recorded", .string(timestamp)))
        members.append(("outcome", .string(fhirOutcome)))
        if let reason { members.append(("outcomeDesc", .string(reason))) }
        members.append(("agent", .raw("[" + agents().map { JSONText.object($0) }.joined(separator: ",") + "]")))
        members.append(
            (
                "source",
                .raw(
                    JSONText.object([
                        ("site", .string("tollgate")), ("observer", .raw(JSONText.object([("display", .string("tollgate"))]))),
                        (
                            "type",
                            .raw(
                                "[" + JSONText.render(Self.coding(("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server")))
                                    + "]")
                        ),
                    ]))
            ))
        members.append(("entity", .raw("[" + entities().map { JSONText.object($0) }.joined(separator: ",") + "]")))
        return members
    }

    typealias Code = (system: String, code: String, display: String)

    private static func coding(_ code: Code) -> JSONText.Value {
        .raw(JSONText.object([("system", .string(code.system)), ("code", .string(code.code)), ("display", .string(code.display))]))
    }

    private static func concept(_ code: Code) -> JSONText.Value {
        .raw(JSONText.object([("coding", .raw("[" + JSONText.render(coding(code)) + "]"))]))
    }

    private static let dicom = "http://dicom.nema.org/resources/ontology/DCM"

    var eventType: Code {
        switch action {
        case .adminAuthentication: (Self.dicom, "110114", "User Authentication")
        case _ where category == .security: (Self.dicom, "110113", "Security Alert")
        default: ("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation")
        }
    }

    var eventSubtype: Code? {
        switch category {
        case .security: action == .adminAuthentication ? (Self.dicom, "110122", "Login") : nil
        case .access, .admin: ("http://hl7.org/fhir/restful-interaction", interaction.code, interaction.code)
        }
    }

    /// The RESTful interaction (and its C/R/U/D/E action): from what an administrative act did,
    /// else from the method of the request decided about.
    var interaction: (code: String, action: String) {
        switch action {
        case .connectionCreate, .shareLinkCreate: return ("create", "C")
        case .connectionUpdate, .rolesUpdate, .keyRewrap: return ("update", "U")
        case .connectionDelete, .cacheEvict: return ("delete", "D")
        case .connectionTest, .connectionAuthorize, .connectionCallback: return ("operation", "E")
        default: break
        }
        if category == .security { return ("operation", "E") }
        switch method.uppercased() {
        case "GET", "HEAD": return ("read", "R")
        case "POST": return ("create", "C")
        case "PUT": return ("update", "U")
        case "PATCH": return ("patch", "U")
        case "DELETE": return ("delete", "D")
        case "OPTIONS": return ("capabilities", "R")
        default: return ("operation", "E")
        }
    }

    /// 0 success; 4 a refusal; 8 a failure to decide (the service was unavailable).
    var fhirOutcome: String {
        switch outcome {
        case .allowed: "0"
        case .denied: status >= 500 ? "8" : "4"
        }
    }

    private func agents() -> [[(String, JSONText.Value)]] {
        var agents: [[(String, JSONText.Value)]] = []
        let network: JSONText.Value? = clientAddress.map { .raw(JSONText.object([("address", .string($0)), ("type", .string("2"))])) }
        if subject != nil || clientID != nil {
            var user: [(String, JSONText.Value)] = [
                ("type", Self.concept(("https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes", "UserOauthAgent", "User OAuth Agent participant")))
            ]
            var who: [(String, JSONText.Value)] = []
            var identifier: [(String, JSONText.Value)] = [("value", .string(subject ?? clientID ?? ""))]
            if let issuer { identifier.append(("assigner", .raw(JSONText.object([("display", .string(issuer))])))) }
            who.append(("identifier", .raw(JSONText.object(identifier))))
            if let name { who.append(("display", .string(name))) }
            user.append(("who", .raw(JSONText.object(who))))
            if let clientID { user.append(("altId", .string(clientID))) }
            if let name { user.append(("name", .string(name))) }
            user.append(("requestor", .bool(true)))
            if let network { user.append(("network", network)) }
            agents.append(user)
        }
        if let admin {
            var agent: [(String, JSONText.Value)] = [
                ("type", Self.concept(("http://terminology.hl7.org/CodeSystem/extra-security-role-type", "humanuser", "human user"))),
                ("who", .raw(JSONText.object([("identifier", .raw(JSONText.object([("value", .string(admin))])))]))),
                ("requestor", .bool(true)),
            ]
            if let network { agent.append(("network", network)) }
            agents.append(agent)
        }
        if agents.isEmpty {
            // Nobody was identified (no token, a refused key): the requesting address stands for them.
            var anonymous: [(String, JSONText.Value)] = [
                ("type", Self.concept((Self.dicom, "110153", "Source Role ID"))),
                ("who", .raw(JSONText.object([("display", .string("unidentified caller"))]))),
                ("requestor", .bool(true)),
            ]
            if let network { anonymous.append(("network", network)) }
            agents.append(anonymous)
        }
        var server: [(String, JSONText.Value)] = [
            ("type", Self.concept((Self.dicom, "110152", "Destination Role ID"))),
            ("who", .raw(JSONText.object([("display", .string("tollgate"))]))),
            ("requestor", .bool(false)),
        ]
        if let peerAddress { server.append(("network", .raw(JSONText.object([("address", .string(peerAddress)), ("type", .string("2"))])))) }
        agents.append(server)
        return agents
    }

    private func entities() -> [[(String, JSONText.Value)]] {
        let systemObject = Self.coding(("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"))
        var entities: [[(String, JSONText.Value)]] = [
            [
                ("what", .raw(JSONText.object([("identifier", .raw(JSONText.object([("value", .string(requestID))])))]))),
                ("type", Self.coding(("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "XrequestId", "HTTP X-Request-Id"))),
            ]
        ]
        var details: [(String, String)] = [("method", method), ("status", String(status)), ("action", action.rawValue)]
        for (name, value) in [("rule", rule), ("permission", permission), ("target", target), ("trace_id", traceID)] {
            if let value { details.append((name, value)) }
        }
        entities.append([
            ("what", .raw(JSONText.object([("display", .string(path))]))), ("type", systemObject), ("detail", Self.details(details)),
        ])
        if let resource, let identifier = resource.orthancID ?? resource.dicomUID {
            var resourceDetails: [(String, String)] = []
            if let level = resource.level { resourceDetails.append(("orthanc_level", level)) }
            if let uid = resource.dicomUID { resourceDetails.append(("dicom_uid", uid)) }
            var entity: [(String, JSONText.Value)] = [
                ("what", .raw(JSONText.object([("identifier", .raw(JSONText.object([("value", .string(identifier))])))]))),
                ("type", systemObject),
            ]
            if !resourceDetails.isEmpty { entity.append(("detail", Self.details(resourceDetails))) }
            entities.append(entity)
        }
        if let shareLink {
            var linkDetails: [(String, String)] = [("share_link_type", shareLink.type)] + shareLink.studies.map { ("study", $0) }
            if let lifetime = shareLink.lifetimeSeconds { linkDetails.append(("lifetime_seconds", String(lifetime))) }
            entities.append([
                ("what", .raw(JSONText.object([("display", .string("share link"))]))), ("type", systemObject), ("detail", Self.details(linkDetails)),
            ])
        }
        return entities
    }

    private static func details(_ pairs: [(String, String)]) -> JSONText.Value {
        .raw("[" + pairs.map { JSONText.object([("type", .string($0.0)), ("valueString", .string($0.1))]) }.joined(separator: ",") + "]")
    }
}
