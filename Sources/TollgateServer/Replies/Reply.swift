import Hummingbird
import NIOCore
import TollgateInbound
import TollgateOutbound

/// Small response builders shared by the adapters.
enum Reply {
    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        Answer.json(text, status: status, headers: headers).response
    }

    static func bytes(_ bytes: [UInt8], contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

enum BodyError: Error {
    case tooLarge
    case unreadable
}

extension Request {
    /// The whole body, refusing anything over `limit` bytes (by Content-Length up front, else while reading).
    func collectBody(limit: Int) async throws(BodyError) -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit { throw .tooLarge }
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw .tooLarge
        } catch {
            throw .unreadable
        }
    }
}

extension Reply {
    /// `audit.on_failure: deny`: an allowed decision the audit trail could not take (503).
    static func unrecorded() -> Answer {
        var answer = Answer.json(
            #"{"error":"temporarily_unavailable","error_description":"the audit trail cannot record this decision"}"#, status: .serviceUnavailable)
        answer.headers[.cacheControl] = "no-store"
        answer.headers[.xTollgateError] = "audit_unavailable"
        return answer
    }
}
