import Foundation
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound
import TollgateRegistry

/// The overview and the Orthanc page: read-only views of what the rest of Tollgate reports.
extension ConsoleRoutes {
    func registerPages(on router: some RouterMethods<TollgateRequestContext>) {
        router.get("/console") { request, context in
            switch await visit(request, context) {
            case .failure(let refusal): return refusal.response
            case .success(let visit):
                return ConsolePage.render(
                    "overview", title: "Overview", session: visit.session, section: .overview, values: await overview(), version: version)
            }
        }
        router.get("/console/orthanc") { request, context in
            switch await visit(request, context) {
            case .failure(let refusal): return refusal.response
            case .success(let visit):
                return ConsolePage.render("orthanc", title: "Orthanc", session: visit.session, section: .orthanc, values: orthanc(), version: version)
            }
        }
    }

    func overview() async -> [String: Any] {
        let issuers: [[String: Any]] = app.authenticator.issuers.map { issuer in
            var keys = "—"
            var problem = issuer.lastProblem
            if let jwks = issuer.jwks {
                let condition = jwks.condition
                keys =
                    condition.loadedAt.map { "\(condition.keyCount) key(s), fetched \(ConsolePage.time($0)) (\(Self.age(since: $0, clock: app.clock)) ago)" }
                    ?? "not loaded"
                problem = problem ?? condition.lastFailure
            }
            return ["name": issuer.name, "url": issuer.issuerURL, "mode": issuer.mode.rawValue, "keys": keys, "problem": problem ?? "none"]
        }
        let servers: [[String: Any]] = app.outbound.all.map { server in
            let status = server.status
            let token: String =
                switch (status.token.tokenValid, status.token.expiresInSeconds) {
                case (true, let seconds?): "valid, expires in \(seconds) s"
                case (false, _) where status.token.hasToken: "expired"
                default: "none"
                }
            let pushes = app.pusher.status(forOutboundServer: server.name)
            let push =
                pushes.isEmpty
                ? "not pushed"
                : pushes.map { "\($0.orthancServer): \($0.current ? "current" : "not current")\($0.lastError.map { " (\($0))" } ?? "")" }
                    .joined(separator: "; ")
            return [
                "name": server.name, "token": token, "lastRefresh": ConsolePage.time(status.token.lastRefresh), "breaker": status.token.circuit.name,
                "push": push, "error": status.token.lastError ?? "none",
            ]
        }
        var values: [String: Any] = [
            "issuers": issuers, "hasIssuers": !issuers.isEmpty, "servers": servers, "hasServers": !servers.isEmpty,
        ]
        if let registry = app.registry {
            var summary: [String: Any] = ["store": app.config.registry.store.rawValue]
            do {
                let records = try await registry.store.all()
                let counts = Dictionary(grouping: records, by: \.status).map { ($0.key.rawValue, $0.value.count) }.sorted { $0.0 < $1.0 }
                summary["total"] = records.count
                summary["byStatus"] = counts.map { ["status": $0.0, "count": $0.1] as [String: Any] }
                summary["hasStatuses"] = !counts.isEmpty
            } catch {
                summary["total"] = "?"
                summary["problem"] = "the store did not answer"
            }
            values["registry"] = summary
        }
        let denials: [[String: Any]] = console.denials.entries.map { entry in
            [
                "time": ConsolePage.time(entry.time), "route": entry.route, "status": entry.status, "reason": entry.reason, "rule": entry.rule ?? "—",
                "subject": entry.subject ?? "—",
            ]
        }
        values["denials"] = denials
        values["hasDenials"] = !denials.isEmpty
        values["denialCount"] = denials.count
        return values
    }

    func orthanc() -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let roles = (try? encoder.encode(app.orthancProfiles.roles)).map { String(decoding: $0, as: UTF8.self) } ?? "(cannot be shown)"
        let note =
            app.orthancProfiles.isWritable
            ? "Orthanc Explorer 2 edits these roles (PUT /settings/roles); they are kept in orthanc.permissions.roles_file. Shown here read-only."
            : "Read-only: set orthanc.permissions.roles_file to let Orthanc Explorer 2 edit them."
        let share = app.config.orthanc.shareTokens
        let facts: [(String, String)] = [
            (
                "Signing key",
                share.hasSharedKey ? "set (links hold on every replica and across restarts)" : "not set (a key of this process: links end with it)"
            ),
            ("Default validity", share.defaultValiditySeconds.map { "\($0) s" } ?? "links never expire unless asked to"),
            ("Longest validity", share.maxValiditySeconds.map { "\($0) s" } ?? "no cap"),
            ("Public Orthanc root", share.publicOrthancRoot ?? "not set"),
            ("Public OHIF root", share.publicOHIFRoot ?? "not set"),
            ("Public landing root", share.publicLandingRoot ?? "not set"),
            ("OHIF data source", share.ohifDataSource.rawValue),
        ]
        return ["roles": roles, "rolesNote": note, "share": facts.map { ["label": $0.0, "value": $0.1] }]
    }

    static func age(since time: Double, clock: any TollgateClock) -> String {
        let seconds = max(0, Int(min(clock.now() - time, 1e9)))
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }
}
