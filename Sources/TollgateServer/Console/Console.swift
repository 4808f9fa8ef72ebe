import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateKit
import TollgateRegistry

/// The console's state: sessions, the sign-in, and the recent refusals the overview lists.
final class Console: Sendable {
    let config: ConsoleConfig
    let sessions: ConsoleSessions
    /// `auth: oidc`; nil with `auth: mtls`.
    let signIn: ConsoleSignIn?
    let denials: RecentDenials
    /// `admin.client_certificates`, for `auth: mtls`.
    let certificates: Set<String>
    /// `__Host-` on https (Secure, Path=/, no Domain: no sibling host can set or read it).
    let cookieName: String
    let secureCookie: Bool

    init(config: TollgateConfig, registry: ConnectionRegistry?, http: HTTPClient, clock: any TollgateClock) {
        self.config = config.console
        let store: any ConsoleDocumentStore =
            switch (config.console.session.store, registry) {
            case (.registry, let registry?): RegistryConsoleStore(store: registry.store, clock: clock)
            default: MemoryConsoleStore(clock: clock)
            }
        sessions = ConsoleSessions(store: store, settings: config.console.session, clock: clock)
        signIn = config.console.auth == .oidc ? ConsoleSignIn(config: config.console, sessions: sessions, http: http, clock: clock) : nil
        denials = RecentDenials(clock: clock)
        certificates = Set(config.admin.clientCertificates)
        let https = config.console.baseURL?.lowercased().hasPrefix("https://") ?? (config.server.tls != nil)
        secureCookie = https
        cookieName = https ? "__Host-tollgate-console" : "tollgate-console"
    }

    /// The session cookie's value in `request`, when there is exactly one.
    func cookie(in request: Request) -> String? {
        Self.cookie(named: cookieName, in: request)
    }

    /// The sign-in cookie: set when a sign-in starts, read back by its callback (login CSRF).
    var signInCookieName: String { cookieName + "-signin" }

    func signInCookie(in request: Request) -> String? {
        Self.cookie(named: signInCookieName, in: request)
    }

    func setSignInCookie(_ value: String) -> String {
        "\(signInCookieName)=\(value); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(Int(ConsoleSessions.signInSeconds))" + (secureCookie ? "; Secure" : "")
    }

    var clearSignInCookie: String {
        "\(signInCookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (secureCookie ? "; Secure" : "")
    }

    private static func cookie(named name: String, in request: Request) -> String? {
        var found: [String] = []
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    found.append(parts[1].trimmingCharacters(in: .whitespaces))
                }
            }
        }
        return found.count == 1 ? found[0] : nil
    }

    /// HttpOnly, SameSite=Lax (the IdP's redirect back is a top-level GET), Secure on https; it
    /// lives as long as the absolute timeout, and the server forgets it sooner when idle.
    func setCookie(_ value: String) -> String {
        var cookie = "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(config.session.absoluteTimeoutSeconds)"
        if secureCookie { cookie += "; Secure" }
        return cookie
    }

    var clearCookie: String {
        "\(cookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (secureCookie ? "; Secure" : "")
    }
}
