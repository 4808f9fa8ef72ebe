import Hummingbird

/// RFC 9110 §15.5.6: a path Tollgate serves, asked with a method it does not serve there, answers
/// 405 with `Allow` naming the methods it does (not 404, which says the path does not exist).
/// Registered last, from the routes the router already holds, so the list can never drift.
enum MethodNotAllowedRoutes {
    /// RFC 9110's methods and QUERY (the safe method with a body, draft-ietf-httpbis-safe-method-w-body);
    /// CONNECT targets an authority, never a path.
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, HTTPRequest.Method("QUERY")!]

    static func register(on router: Router<TollgateRequestContext>) {
        var served: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in router.routes {
            served[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        for (_, var route) in served {
            // The router answers HEAD itself wherever GET is served (`.autoGenerateHeadEndpoints`).
            if route.methods.contains(.get) { route.methods.insert(.head) }
            let allow = route.methods.map(\.rawValue).sorted().joined(separator: ", ")
            for method in methods where !route.methods.contains(method) {
                router.on(route.path, method: method) { _, _ in
                    Response(status: .methodNotAllowed, headers: [.allow: allow])
                }
            }
        }
    }
}
