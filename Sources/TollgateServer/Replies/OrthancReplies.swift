import Hummingbird
import TollgateInbound
import TollgateKit

/// The orthanc-authorization web service's answers, never cached by intermediaries.
enum OrthancReplies {
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Answer {
        Answer.json(text, status: status, headers: [.cacheControl: "no-store"])
    }

    static func granted(_ granted: Bool, validity: Int) -> Answer {
        json(#"{"granted":\#(granted),"validity":\#(max(0, validity))}"#)
    }

    static func profile(_ profile: OrthancProfile) -> Answer {
        var members: [(String, JSONText.Value)] = [
            ("name", .string(profile.name)),
            ("permissions", .strings(profile.permissions)),
            ("authorized-labels", .strings(profile.authorizedLabels)),
            ("validity", .int(max(0, profile.validity))),
        ]
        if let userID = profile.userID { members.append(("user-id", .string(userID))) }
        members.append(("groups", .strings(profile.groups)))
        return json(JSONText.object(members))
    }

    static func resources(_ resources: [OrthancResource]) -> JSONText.Value {
        .raw(
            "["
                + resources.map { resource in
                    var members: [(String, JSONText.Value)] = [("level", .string(resource.level))]
                    members.append(("dicom-uid", resource.dicomUID.map { .string($0) } ?? .null))
                    members.append(("orthanc-id", resource.orthancID.map { .string($0) } ?? .null))
                    members.append(("url", resource.url.map { .string($0) } ?? .null))
                    return JSONText.object(members)
                }.joined(separator: ",") + "]")
    }

    static func error(_ message: String, status: HTTPResponse.Status, requestID: String = "", headers: HTTPFields = [:]) -> Answer {
        var members: [(String, JSONText.Value)] = [("error", .string(message))]
        if !requestID.isEmpty { members.append(("request_id", .string(requestID))) }
        if let traceID = CurrentTrace.id { members.append(("trace_id", .string(traceID))) }
        var headers = headers
        headers[.cacheControl] = "no-store"
        return Answer.json(JSONText.object(members), status: status, headers: headers)
    }
}
