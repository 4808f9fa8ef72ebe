import Hummingbird
import NIOCore

/// A whole answer held in memory. The router sends it as a `Response`; the event-loop path
/// writes the same head and body itself, so both send the same bytes.
struct Answer: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer?

    init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Made the way every route's answer is, so that its head (`Content-Length` included, in its place) is the router's.
    var response: Response {
        Response(status: status, headers: headers, body: body.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Answer {
        var headers = headers
        headers[.contentType] = "application/json"
        return Answer(status: status, headers: headers, body: ByteBuffer(string: text))
    }
}
