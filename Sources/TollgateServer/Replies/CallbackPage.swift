import Hummingbird
import HTTPTypes
import Mustache

/// The page a browser lands on after the IdP's redirect: connected or not, in plain words, and
/// never a token or a code. Mustache escapes every value.
enum CallbackPage {
    private static let template = try! MustacheTemplate(
        string: """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}}</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
            h1{font-size:1.4rem}.failed h1{color:#a4262c}.connected h1{color:#107c10}</style></head>
            <body class="{{class}}">
            <h1>{{title}}</h1>
            <p>{{message}}</p>
            {{#detail}}<p>Reason: {{detail}}</p>{{/detail}}
            {{#back}}<p><a href="{{back}}">Back to the connection in the Tollgate console</a></p>{{/back}}
            {{^back}}<p>You can close this window.</p>{{/back}}
            </body>
            </html>

            """)

    /// The page's own policy: no script, no frame, nothing fetched, no Referer carrying the code.
    static let headers: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .referrerPolicy: "no-referrer",
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'",
        .xContentTypeOptions: "nosniff",
    ]

    /// `back`: the connection's console page, when the console is on.
    static func connected(_ name: String, back: String? = nil) -> Response {
        var values = [
            "class": "connected", "title": "Connected",
            "message": "The connection \u{201C}\(name)\u{201D} is connected. Tollgate keeps its token fresh from now on.",
        ]
        values["back"] = back
        return page(status: .ok, values: values)
    }

    static func failed(_ name: String, status: HTTPResponse.Status, reason: String, back: String? = nil) -> Response {
        var values = [
            "class": "failed", "title": "Not connected",
            "message": "The connection \u{201C}\(name)\u{201D} could not be connected. Start again from Tollgate.",
            "detail": reason,
        ]
        values["back"] = back
        return page(status: status, values: values)
    }

    private static func page(status: HTTPResponse.Status, values: [String: String]) -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: template.render(values))))
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}
