import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The console's HTML: templates compiled into the binary (`Console/Templates`), every value
/// escaped by Mustache (only a page's own rendered body is placed unescaped into the layout), and
/// the same strict headers on every answer: no script at all, no inline style, no framing, no
/// Referer, nothing cached.
enum ConsolePage {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("message", PackageResources.message_mustache),
            ("overview", PackageResources.overview_mustache), ("connections", PackageResources.connections_mustache),
            ("connection", PackageResources.connection_mustache), ("delete", PackageResources.delete_mustache),
            ("orthanc", PackageResources.orthanc_mustache),
        ]
        for (name, bytes) in templates {
            // The templates are part of the source tree and tested: a broken one fails every test.
            try! library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        return library
    }()

    static let stylesheet = PackageResources.console_css

    /// Pages of the console; the navigation marks the current one.
    enum Section: String, CaseIterable {
        case overview, connections, orthanc

        var href: String { self == .overview ? "/console" : "/console/" + rawValue }
        var label: String {
            switch self {
            case .overview: "Overview"
            case .connections: "Connections"
            case .orthanc: "Orthanc"
            }
        }
    }

    /// `formTargets`: origins a form on this page may lead to besides Tollgate (Connect's IdP).
    static func render(
        _ template: String, title: String, session: ConsoleSession?, section: Section? = nil, values: [String: Any] = [:],
        notice: String? = nil, problem: String? = nil, status: HTTPResponse.Status = .ok, formTargets: [String] = [], version: String
    ) -> Response {
        var context = values
        context["csrf"] = session?.csrfToken ?? ""
        let body = library.render(context, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body, "version": version]
        if let session {
            layout["signedIn"] = true
            layout["user"] = session.displayName
            layout["csrf"] = session.csrfToken
            layout["nav"] = Section.allCases.map { ["href": $0.href, "label": $0.label, "current": $0 == section] as [String: Any] }
        }
        if let notice { layout["notice"] = notice }
        if let problem { layout["problem"] = problem }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: headers(formTargets: formTargets), body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with one message and, perhaps, one way on.
    static func message(
        title: String, _ message: String, session: ConsoleSession? = nil, action: (label: String, href: String)? = nil,
        status: HTTPResponse.Status = .ok, version: String
    ) -> Response {
        var values: [String: Any] = ["message": message]
        if let action { values["action"] = ["label": action.label, "href": action.href] }
        return render("message", title: title, session: session, values: values, status: status, version: version)
    }

    static func headers(formTargets: [String] = []) -> HTTPFields {
        let formAction = (["'self'"] + formTargets).joined(separator: " ")
        return [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .referrerPolicy: "no-referrer",
            .contentSecurityPolicy:
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action \(formAction); frame-ancestors 'none'; base-uri 'none'",
            .xFrameOptions: "DENY", .xContentTypeOptions: "nosniff",
        ]
    }

    /// A time for a table (ISO 8601, UTC); a dash when there is none.
    static func time(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, abs(seconds) < 1e11 else { return "—" }
        return OutboundAPIAdapter.timestamp(seconds)
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
}
