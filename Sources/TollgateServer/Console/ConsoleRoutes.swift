import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TollgateKit

/// `/console`: sign-in and sign-out, the session guard, and CSRF on every form. The pages
/// themselves are in `ConsoleRoutes+Pages` and `ConsoleRoutes+Connections`; every action they
/// take goes through the same code as the API.
struct ConsoleRoutes {
    let console: Console
    let app: TollgateApp
    let maxBodyBytes: Int

    var version: String { TollgateApp.version }

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.get("/console/static/console.css") { _, _ in
            var headers = ConsolePage.headers()
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "public, max-age=3600"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: ConsolePage.stylesheet)))
        }
        router.get("/console/login") { request, context in await login(request, context) }
        router.get("/console/callback") { request, context in await callback(request, context) }
        router.post("/console/logout") { request, context in await logout(request, context) }
        registerPages(on: router)
        registerConnections(on: router)
    }

    // MARK: - the guard

    /// A signed-in person's request: the session, and (for a POST) the form, its CSRF token checked.
    struct Visit {
        let session: ConsoleSession
        let form: [String: String]
    }

    /// The session behind `request`, or the answer that sends the person to sign in. Fails closed:
    /// when the session store cannot be asked, nobody is let in.
    func visit(_ request: Request, _ context: TollgateRequestContext) async -> Result<Visit, ConsoleRefusal> {
        let lookup: ConsoleSessions.Lookup
        do {
            lookup = try await console.sessions.find(cookie: console.cookie(in: request))
        } catch {
            context.logger.warning("console: the session store cannot be reached; refusing the request")
            return .failure(
                ConsoleRefusal(
                    ConsolePage.message(
                        title: "Temporarily unavailable", "Sessions cannot be checked right now (the session store is unavailable). Try again in a minute.",
                        status: .serviceUnavailable, version: version)))
        }
        let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        let signIn = "/console/login?" + FormEncoding.encode([("return_to", ConsoleSignIn.consolePath(here))])
        switch lookup {
        case .none where request.method == .get:
            return .failure(ConsoleRefusal(Response(status: .seeOther, headers: [.location: signIn, .cacheControl: "no-store"])))
        case .none:
            return .failure(
                ConsoleRefusal(
                    ConsolePage.message(
                        title: "Not signed in", "Sign in to use the console; nothing was changed.", action: ("Sign in", signIn), status: .unauthorized,
                        version: version)))
        case .expired:
            var answer = ConsolePage.message(
                title: "Session expired",
                "Your session ended after \(console.config.session.idleTimeoutSeconds / 60) minutes without activity, or \(console.config.session.absoluteTimeoutSeconds / 3600) hours after signing in. Nothing was changed.",
                action: ("Sign in again", signIn), status: .unauthorized, version: version)
            answer.headers[.setCookie] = console.clearCookie
            return .failure(ConsoleRefusal(answer))
        case .active(let session):
            context.noteAuditDetails { $0.admin = session.identity }
            guard request.method == .post else { return .success(Visit(session: session, form: [:])) }
            guard let form = await form(request) else {
                return .failure(
                    ConsoleRefusal(
                        ConsolePage.message(
                            title: "Form not accepted", "The form could not be read (too large, or not a form). Go back and try again.",
                            session: session, status: .badRequest, version: version)))
            }
            guard let token = form["csrf"], SecretDigest(session.csrfToken).matches(token) else {
                context.logger.warning("console: a form arrived without this session's CSRF token; refused")
                return .failure(
                    ConsoleRefusal(
                        ConsolePage.message(
                            title: "Form expired",
                            "This form is not from your current session (its CSRF token is missing or stale). Reload the page and try again; nothing was changed.",
                            session: session, action: ("Back to the overview", "/console"), status: .forbidden, version: version)))
            }
            return .success(Visit(session: session, form: form))
        }
    }

    private func form(_ request: Request) async -> [String: String]? {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true,
            let buffer = try? await request.collectBody(limit: min(maxBodyBytes, 64 * 1024)),
            let text = String(validating: buffer.readableBytesView, as: UTF8.self)
        else { return nil }
        return FormEncoding.parse(text)
    }

    // MARK: - signing in and out

    private func login(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        let returnTo = ConsoleSignIn.consolePath(request.uri.queryParameters.get("return_to") ?? "/console")
        guard let signIn = console.signIn else { return await certificateLogin(context, returnTo: returnTo) }
        do {
            let browser = ConsoleSessions.randomToken()
            let url = try await signIn.start(returnTo: returnTo, browser: browser)
            return Response(
                status: .found,
                headers: [.location: url, .setCookie: console.setSignInCookie(browser), .cacheControl: "no-store", .referrerPolicy: "no-referrer"])
        } catch {
            return failedSignIn(error, context)
        }
    }

    /// `auth: mtls`: the verified certificate is the sign-in.
    private func certificateLogin(_ context: TollgateRequestContext, returnTo: String) async -> Response {
        let names = await ClientCertificate.names(on: context.channel)
        guard let name = names.first(where: console.certificates.contains) else {
            context.noteAudit(.consoleSignInRefused) { note in
                note.outcome = .denied
                note.reason = names.isEmpty ? "no client certificate" : "certificate not in admin.client_certificates"
            }
            return ConsolePage.message(
                title: "Not allowed",
                names.isEmpty
                    ? "The console needs a client certificate, and this connection presented none. Use a browser that holds one of the certificates admin.client_certificates names."
                    : "This client certificate is not one admin.client_certificates names. Ask whoever runs Tollgate to add it.",
                status: .forbidden, version: version)
        }
        return await begin(subject: name, displayName: name, grantedBy: "certificate", returnTo: returnTo, context)
    }

    private func callback(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        guard let signIn = console.signIn else { return Response(status: .notFound) }
        let parameters: [String: String]
        switch ConnectionsAdapter.formPairs(request.uri.query ?? "").flatMap({ pairs in
            ConnectionsAdapter.callbackParameters { key in pairs.filter { $0.0 == key }.map(\.1) }
        }) {
        case .success(let given): parameters = given
        case .failure(let error):
            return ConsolePage.message(
                title: "Sign-in failed", error.message, action: ("Sign in again", "/console/login"), status: .badRequest, version: version)
        }
        var answer: Response
        do {
            let person = try await signIn.finish(parameters: parameters, browser: console.signInCookie(in: request))
            answer = await begin(subject: person.subject, displayName: person.displayName, grantedBy: person.grantedBy, returnTo: person.returnTo, context)
        } catch {
            answer = failedSignIn(error, context)
        }
        // Two Set-Cookie fields when the session cookie is set too (RFC 6265 §3: one cookie each).
        answer.headers.append(HTTPField(name: .setCookie, value: console.clearSignInCookie))
        return answer
    }

    private func begin(subject: String, displayName: String, grantedBy: String, returnTo: String, _ context: TollgateRequestContext) async -> Response {
        do {
            let (cookie, session) = try await console.sessions.begin(subject: subject, displayName: displayName, grantedBy: grantedBy)
            context.noteAudit(.consoleSignIn) { note in
                note.admin = session.identity
                note.reason = grantedBy
            }
            context.logger.info("console: signed in", metadata: ["who": .string(session.identity), "granted_by": .string(grantedBy)])
            return Response(
                status: .seeOther,
                headers: [.location: returnTo, .setCookie: console.setCookie(cookie), .cacheControl: "no-store", .referrerPolicy: "no-referrer"])
        } catch {
            context.logger.warning("console: a session cannot be stored; the sign-in is refused")
            return ConsolePage.message(
                title: "Temporarily unavailable", "Your sign-in worked, but the session cannot be stored right now. Try again in a minute.",
                status: .serviceUnavailable, version: version)
        }
    }

    private func failedSignIn(_ error: ConsoleSignIn.Failure, _ context: TollgateRequestContext) -> Response {
        switch error {
        case .notAllowed(let why):
            context.noteAudit(.consoleSignInRefused) { note in
                note.outcome = .denied
                note.reason = "console.required not met"
            }
            return ConsolePage.message(title: "Not allowed", why, status: .forbidden, version: version)
        case .failed(let why, let retryable):
            context.noteAudit(.consoleSignInRefused) { note in
                note.outcome = .denied
                note.reason = retryable ? "sign-in service unavailable" : "sign-in failed"
            }
            if retryable { context.logger.warning("console: sign-in could not complete", metadata: ["why": .string(why)]) }
            return ConsolePage.message(
                title: "Sign-in failed", why, action: ("Sign in again", "/console/login"), status: retryable ? .serviceUnavailable : .badRequest,
                version: version)
        }
    }

    private func logout(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        switch await visit(request, context) {
        case .failure(let refusal):
            return refusal.response
        case .success(let visit):
            do {
                try await console.sessions.end(cookie: console.cookie(in: request))
            } catch {
                context.logger.warning("console: the session store cannot be reached; the session could not be ended")
                return ConsolePage.message(
                    title: "Not signed out", "The session store cannot be reached, so the session could not be ended. Try again in a minute.",
                    session: visit.session, status: .serviceUnavailable, version: version)
            }
            context.noteAudit(.consoleSignOut)
            var answer = ConsolePage.message(
                title: "Signed out", "You are signed out of the console. Your sign-in at the IdP itself may still be active.",
                action: ("Sign in again", "/console/login"), version: version)
            answer.headers[.setCookie] = console.clearCookie
            return answer
        }
    }
}

/// An answer that ends a console request before its page: sign in, expired, CSRF, unavailable.
struct ConsoleRefusal: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
