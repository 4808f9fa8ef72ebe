import Foundation
import HTTPTypes
import Hummingbird
import TollgateKit
import TollgateRegistry

/// The connection pages: every action is the registry's own call (`RuntimeConnections`), with the
/// API's decoder and messages, recorded in the audit trail under the person's identity.
extension ConsoleRoutes {
    func registerConnections(on router: some RouterMethods<TollgateRequestContext>) {
        router.get("/console/connections") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                await list(connections, visit, organization: organization)
            }
        }
        router.post("/console/connections") { request, context in
            await withConnections(request, context) { connections, visit, _ in
                await create(connections, visit, context)
            }
        }
        router.get("/console/connections/:name") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                await detail(connections, visit, organization: organization, name: name(context))
            }
        }
        router.post("/console/connections/:name") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                await update(connections, visit, context, organization: organization, name: name(context))
            }
        }
        router.post("/console/connections/:name/connect") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                context.noteAudit(.connectionAuthorize) { $0.target = name(context) }
                do {
                    let start = try await connections.authorization.authorize(organization: organization, name: name(context))
                    return Response(status: .seeOther, headers: [.location: start.authorizationURL, .cacheControl: "no-store", .referrerPolicy: "no-referrer"])
                } catch {
                    return await detail(connections, visit, organization: organization, name: name(context), refusal: RegistryError.of(error))
                }
            }
        }
        router.post("/console/connections/:name/test") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                context.noteAudit(.connectionTest) { $0.target = name(context) }
                let started = ContinuousClock.now
                do {
                    let result = try await connections.tokens.test(organization: organization, name: name(context))
                    let latency = Int((ContinuousClock.now - started).milliseconds)
                    return await detail(
                        connections, visit, organization: organization, name: name(context),
                        notice: "Test passed: the token endpoint issued a new access token (valid for \(result.credentials.expiresIn) s, \(latency) ms).")
                } catch {
                    let refusal = RegistryError.of(error)
                    context.noteAuditDetails { $0.reason = refusal.code.rawValue }
                    return await detail(
                        connections, visit, organization: organization, name: name(context), refusal: refusal, prefix: "Test failed")
                }
            }
        }
        router.get("/console/connections/:name/delete") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                await deletion(connections, visit, organization: organization, name: name(context))
            }
        }
        router.post("/console/connections/:name/delete") { request, context in
            await withConnections(request, context) { connections, visit, organization in
                context.noteAudit(.connectionDelete) { $0.target = name(context) }
                do {
                    try await connections.catalog.delete(organization: organization, name: name(context))
                    return await list(connections, visit, organization: organization, notice: "\(name(context)) was deleted.")
                } catch {
                    let refusal = RegistryError.of(error)
                    context.noteAuditDetails { $0.reason = refusal.code.rawValue }
                    return await deletion(connections, visit, organization: organization, name: name(context), refusal: refusal)
                }
            }
        }
    }

    private func name(_ context: TollgateRequestContext) -> String { context.parameters.get("name") ?? "" }

    /// The guard, the registry and the organisation (`?organization=`, else the form's, else GLOBAL).
    private func withConnections(
        _ request: Request, _ context: TollgateRequestContext,
        _ body: (RuntimeConnections, Visit, String) async -> Response
    ) async -> Response {
        let visit: Visit
        switch await self.visit(request, context) {
        case .failure(let refusal): return refusal.response
        case .success(let allowed): visit = allowed
        }
        guard let connections = app.connections else {
            return ConsolePage.message(
                title: "Connections", "The registry is off (registry.enabled: false): there are no connections made at run time to manage.",
                session: visit.session, status: .notFound, version: version)
        }
        let given: String? = request.uri.queryParameters.get("organization").map { String($0) } ?? visit.form["organization"]
        do {
            let organization = try RuntimeConnections.organization(header: given.flatMap { $0.isEmpty ? nil : $0 })
            return await body(connections, visit, organization)
        } catch {
            return ConsolePage.message(
                title: "Connections", RegistryError.of(error).message.replacingOccurrences(of: "X-Organization-Id", with: "The organisation"),
                session: visit.session, action: ("All connections", "/console/connections"), status: .badRequest, version: version)
        }
    }

    private static func orgQuery(_ organization: String) -> String {
        "?" + FormEncoding.encode([("organization", organization)])
    }

    private func list(
        _ connections: RuntimeConnections, _ visit: Visit, organization: String, notice: String? = nil, problem: String? = nil,
        entered: [String: String] = [:], enteredFlow: ConnectionFlow? = nil, status: HTTPResponse.Status = .ok
    ) async -> Response {
        var values: [String: Any] = ["organization": organization]
        var loadProblem: String?
        do {
            let views = try await connections.catalog.list(organization: organization)
            let rows: [[String: Any]] = views.map { view in
                let record = view.record
                var row: [String: Any] = [
                    "name": record.name, "organization": record.organization, "flow": record.flow.rawValue, "status": record.status.rawValue,
                    "expires": ConsolePage.time(record.expiresAt), "lastRefresh": ConsolePage.time(record.lastRefreshAt),
                    "lastTest": ConsolePage.time(record.lastTestAt), "href": "/console/connections/\(record.name)" + Self.orgQuery(record.organization),
                ]
                if let message = record.statusMessage { row["message"] = PrintableText.clean(message, limit: 200) }
                return row
            }
            values["connections"] = rows
            values["hasConnections"] = !rows.isEmpty
        } catch {
            loadProblem = RegistryError.of(error).message
        }
        let known = (try? await connections.catalog.organizations()) ?? []
        values["organizations"] = Array(Set(known + [organization, RuntimeConnections.globalOrganization])).sorted().map {
            ["name": $0, "selected": $0 == organization] as [String: Any]
        }
        values["flows"] = ConsoleConnectionForms.flows.map { flow in
            [
                "flow": flow.flow.rawValue, "label": flow.label, "explanation": flow.explanation, "organization": organization,
                "open": enteredFlow == flow.flow,
                "fields": ConsoleConnectionForms.rendered(
                    ConsoleConnectionForms.fields(for: flow.flow), values: enteredFlow == flow.flow ? entered : [:], idPrefix: flow.flow.rawValue),
            ] as [String: Any]
        }
        return ConsolePage.render(
            "connections", title: "Connections", session: visit.session, section: .connections, values: values, notice: notice,
            problem: problem ?? loadProblem, status: status, version: version)
    }

    private func create(_ connections: RuntimeConnections, _ visit: Visit, _ context: TollgateRequestContext) async -> Response {
        let flow = visit.form["oauth_flow_type"].flatMap(ConnectionFlow.init(rawValue:))
        let organization = (try? RuntimeConnections.organization(header: visit.form["organization"])) ?? RuntimeConnections.globalOrganization
        context.noteAudit(.connectionCreate) { $0.target = visit.form["connection_name"].map { PrintableText.clean($0, limit: 64) } }
        do {
            let organization = try RuntimeConnections.organization(header: visit.form["organization"].flatMap { $0.isEmpty ? nil : $0 })
            let request = try ConnectionRequests.decode(ConnectionRequest.self, from: ConsoleConnectionForms.body(visit.form, flow: flow))
            let view = try await connections.catalog.create(organization: organization, input: request.input, createdBy: visit.session.identity)
            return await detail(
                connections, visit, organization: organization, name: view.record.name,
                notice: view.record.flow == .authorizationCode
                    ? "\(view.record.name) was created. Press Connect to sign in at the IdP."
                    : "\(view.record.name) was created (status: \(view.record.status.rawValue)).")
        } catch {
            let refusal = RegistryError.of(error)
            context.noteAuditDetails { $0.reason = refusal.code.rawValue }
            return await list(
                connections, visit, organization: organization, problem: "Not created: \(refusal.message)", entered: visit.form, enteredFlow: flow,
                status: ConnectionsAdapter.status(of: refusal))
        }
    }

    private func detail(
        _ connections: RuntimeConnections, _ visit: Visit, organization: String, name: String, notice: String? = nil,
        refusal: RegistryError? = nil, prefix: String? = nil, entered: [String: String]? = nil
    ) async -> Response {
        let view: ConnectionView
        do {
            view = try await connections.catalog.get(organization: organization, name: name)
        } catch {
            return lookupFailed(error, title: "Connection", visit, organization: organization)
        }
        let record = view.record
        let settings = view.settings
        func setOrNot(_ held: Bool) -> String { held ? "set" : "not set" }
        var facts: [(String, String)] = [
            ("Status", record.status.rawValue + (record.statusMessage.map { " — " + PrintableText.clean($0, limit: 300) } ?? "")),
            ("Organisation", record.organization), ("Flow", record.flow.rawValue), ("Client ID", settings.clientID),
            ("Client authentication", settings.authMethod.rawValue), ("Client secret", setOrNot(view.hasClientSecret)),
            ("Private key", setOrNot(view.hasPrivateKey)), ("Refresh token", setOrNot(view.hasRefreshToken)),
            ("Token endpoint", settings.tokenURL), ("Scopes", settings.scopes.isEmpty ? "—" : settings.scopes),
            ("Access token expires", ConsolePage.time(record.expiresAt)), ("Last refresh", ConsolePage.time(record.lastRefreshAt)),
            ("Last test", ConsolePage.time(record.lastTestAt)), ("Created", ConsolePage.time(record.createdAt) + (record.createdBy.map { " by \($0)" } ?? "")),
        ]
        if let displayName = settings.displayName { facts.insert(("Display name", displayName), at: 1) }
        if let description = settings.description { facts.insert(("Description", description), at: 2) }
        if let authorization = settings.authorizationURL { facts.append(("Authorization endpoint", authorization)) }
        if let redirect = view.redirectURI { facts.append(("Redirect URI (register it at the IdP)", redirect)) }
        if let url = settings.url { facts.append(("DICOMweb base URL", url)) }
        let ownsIt = record.organization == organization
        let values: [String: Any] = [
            "name": record.name, "organization": organization, "orgQuery": Self.orgQuery(organization),
            "base": "/console/connections/\(record.name)", "facts": facts.map { ["label": $0.0, "value": $0.1] }, "generation": record.generation,
            "canConnect": record.flow == .authorizationCode && ownsIt,
            "fields": ConsoleConnectionForms.rendered(
                ConsoleConnectionForms.fields(for: record.flow, editing: true),
                values: entered ?? ConsoleConnectionForms.values(of: view), idPrefix: "edit"),
        ]
        let problem = refusal.map { (prefix ?? "Not done") + ": " + $0.message }
        // Connect's form leads, through Tollgate's redirect, to the IdP: its origin is a form target.
        let targets = settings.authorizationURL.flatMap(Self.origin).map { [$0] } ?? []
        return ConsolePage.render(
            "connection", title: record.name, session: visit.session, section: .connections, values: values, notice: notice, problem: problem,
            status: refusal.map(ConnectionsAdapter.status(of:)) ?? .ok, formTargets: targets, version: version)
    }

    private func update(
        _ connections: RuntimeConnections, _ visit: Visit, _ context: TollgateRequestContext, organization: String, name: String
    ) async -> Response {
        context.noteAudit(.connectionUpdate) { $0.target = name }
        do {
            guard let generation = visit.form["generation"].flatMap({ Int($0) }), generation > 0 else {
                throw RegistryError(.invalidRequest, "the form lacks the connection's generation: reload the page")
            }
            var fields = visit.form
            fields.removeValue(forKey: "oauth_flow_type")
            let request = try ConnectionRequests.decode(ConnectionRequest.self, from: ConsoleConnectionForms.body(fields, flow: nil))
            _ = try await connections.catalog.update(organization: organization, name: name, ifMatch: "\"\(generation)\"", input: request.input)
            return await detail(connections, visit, organization: organization, name: name, notice: "Changes saved.")
        } catch {
            var refusal = RegistryError.of(error)
            if refusal.code == .generationMismatch {
                refusal = RegistryError(
                    .generationMismatch,
                    "someone changed this connection after you opened the page. The page now shows the current state: make your change again.")
            }
            context.noteAuditDetails { $0.reason = refusal.code.rawValue }
            return await detail(
                connections, visit, organization: organization, name: name, refusal: refusal, prefix: "Not saved",
                entered: refusal.code == .generationMismatch ? nil : visit.form)
        }
    }

    private func deletion(
        _ connections: RuntimeConnections, _ visit: Visit, organization: String, name: String, refusal: RegistryError? = nil
    ) async -> Response {
        let dependents: [ConnectionDependency]
        do {
            dependents = try await connections.catalog.dependencies(organization: organization, name: name)
        } catch {
            return lookupFailed(error, title: "Delete", visit, organization: organization)
        }
        let values: [String: Any] = [
            "name": name, "base": "/console/connections/\(name)", "orgQuery": Self.orgQuery(organization), "hasDependents": !dependents.isEmpty,
            "dependents": dependents.map {
                ["id": $0.dependentID, "label": $0.dependentName, "created": ConsolePage.time($0.createdAt)] as [String: Any]
            },
        ]
        return ConsolePage.render(
            "delete", title: "Delete \(name)?", session: visit.session, section: .connections, values: values,
            problem: refusal.map { "Not deleted: " + $0.message }, status: refusal.map(ConnectionsAdapter.status(of:)) ?? .ok, version: version)
    }

    /// The page for a connection that could not be read (unknown, another organisation's, the store down).
    private func lookupFailed(_ error: any Error, title: String, _ visit: Visit, organization: String) -> Response {
        let refusal = RegistryError.of(error)
        return ConsolePage.message(
            title: title, refusal.message, session: visit.session, action: ("All connections", "/console/connections" + Self.orgQuery(organization)),
            status: ConnectionsAdapter.status(of: refusal), version: version)
    }

    /// `scheme://host[:port]` of an absolute http(s) URL.
    static func origin(_ url: String) -> String? {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = parsed.host, !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != ";" && $0 != "'" })
        else { return nil }
        return scheme + "://" + host + (parsed.port.map { ":\($0)" } ?? "")
    }
}
