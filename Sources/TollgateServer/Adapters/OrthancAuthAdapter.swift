import Foundation
import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit

/// The orthanc-authorization web-service protocol, as Orthanc's authorization plugin
/// (`WebServiceRootUrl`) calls it and orthanc-auth-service answers it: user profiles from the
/// token's roles, resource (share) tokens created, validated and decoded, and the roles settings.
/// A user's OAuth token is judged by its profile only: `/tokens/validate` grants share tokens.
struct OrthancAuthAdapter {
    let decisions: OrthancWebServiceDecision
    let profiles: OrthancProfiles
    let shareTokens: ShareTokens
    let maxBodyBytes: Int

    /// The members of the plugin's validate, get-profile and decode bodies Tollgate reads; others are ignored.
    struct WebServiceRequest: Decodable {
        var method: String?
        var level: String?
        var uri: String?
        var orthancID: String?
        var dicomUID: String?
        var tokenKey: String?
        var tokenValue: String?
        var userID: String?
        var serverID: String?

        enum CodingKeys: String, CodingKey {
            case method, level, uri
            case orthancID = "orthanc-id"
            case dicomUID = "dicom-uid"
            case tokenKey = "token-key"
            case tokenValue = "token-value"
            case userID = "user-id"
            case serverID = "server-id"
        }
    }

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        router.post("/tokens/validate") { request, context in await validate(request, context).response }
        router.post("/user/get-profile") { request, context in await profile(request, context).response }
        router.post("/tokens/decode") { request, context in await decode(request, context).response }
        router.put("/tokens/:type") { request, context in await create(request, context).response }
        router.get("/settings/roles") { _, _ in rolesDocument().response }
        router.put("/settings/roles") { request, context in await replaceRoles(request, context).response }
    }

    /// `token-value` without its `Bearer ` prefix. The `Authorization` header itself carries
    /// the plugin's Basic credentials, never the user's token.
    static func token(_ body: WebServiceRequest) -> String? {
        body.tokenValue.flatMap(BearerToken.fromPresented)
    }

    func validate(_ request: Request, _ context: TollgateRequestContext) async -> Answer {
        await OrthancBody.answer(WebServiceRequest.self, from: request, limit: maxBodyBytes, context: context) { body in
            guard let question = Self.validationQuestion(body) else { return Self.unaskedValidation(context) }
            return validated(body, question, await decisions.validate(question), context)
        }
    }

    /// The same answer as `validate`, once a request context exists, when it needs no wait; nil otherwise.
    func settledValidate(_ buffer: ByteBuffer) -> SettledAnswer? {
        OrthancBody.settle(WebServiceRequest.self, from: buffer) { body in
            guard let question = Self.validationQuestion(body) else { return Self.unaskedValidation }
            return decisions.settledValidation(question).map { validation in { validated(body, question, validation, $0) } }
        }
    }

    private static func validationQuestion(_ body: WebServiceRequest) -> OrthancWebServiceDecision.ValidationQuestion? {
        guard let method = body.method?.lowercased(), TollgateConfig.orthancMethods.contains(method),
            let level = body.level?.lowercased(), TollgateConfig.orthancLevels.contains(level)
        else { return nil }
        return OrthancWebServiceDecision.ValidationQuestion(
            token: token(body), method: method, level: level, dicomUID: body.dicomUID, orthancID: body.orthancID, serverID: body.serverID)
    }

    private static func unaskedValidation(_ context: TollgateRequestContext) -> Answer {
        OrthancReplies.error(
            "method (get, post, put, delete) and level (system, patient, study, series, instance) are required",
            status: .badRequest, requestID: context.requestID)
    }

    private func validated(
        _ body: WebServiceRequest, _ question: OrthancWebServiceDecision.ValidationQuestion, _ answer: OrthancWebServiceDecision.Validation,
        _ context: TollgateRequestContext
    ) -> Answer {
        // A share link's token (from a URL argument, not the Authorization header) that is not one of ours.
        let forged = answer.shareTokenInvalid && body.tokenKey.map { $0.lowercased() != "authorization" } == true
        context.noteAudit(forged ? .invalidShareToken : .tokensValidate) { note in
            note.method = question.method.uppercased()
            note.path = body.uri.flatMap { AuditEvent.clean($0, limit: 512) } ?? "/"
            note.resource = AuditEvent.Resource(
                level: question.level, orthancID: AuditEvent.clean(body.orthancID, limit: 128), dicomUID: AuditEvent.clean(body.dicomUID, limit: 128))
            note.outcome = answer.granted ? .allowed : .denied
            if forged { note.reason = "the share token is not valid" }
        }
        if let decision = answer.decision {
            context.noteDecision(decision)
            let resource = answer.resource.flatMap { $0.orthancID ?? $0.dicomUID }
            context.noteOrthanc(OrthancAccess(method: question.method, level: question.level, resource: resource, user: nil))
        }
        return OrthancReplies.granted(answer.granted, validity: answer.validity)
    }

    func profile(_ request: Request, _ context: TollgateRequestContext) async -> Answer {
        await OrthancBody.answer(WebServiceRequest.self, from: request, limit: maxBodyBytes, context: context) { body in
            if let userID = Self.userIDAsked(body) {
                guard let known = await decisions.knownUser(userID) else { return OrthancReplies.json("null") }
                return OrthancReplies.profile(known)
            }
            return profiled(await decisions.profile(token: Self.token(body)), context)
        }
    }

    /// The same answer as `profile`, once a request context exists, when it needs no wait; nil
    /// otherwise (a cache miss, or a user id, which another replica may know).
    func settledProfile(_ buffer: ByteBuffer) -> SettledAnswer? {
        OrthancBody.settle(WebServiceRequest.self, from: buffer) { body in
            guard Self.userIDAsked(body) == nil, let question = decisions.settledProfile(token: Self.token(body)) else { return nil }
            return { profiled(decisions.profile(question), $0) }
        }
    }

    /// The user id asked about, when the plugin asks by user id rather than by token.
    private static func userIDAsked(_ body: WebServiceRequest) -> String? {
        body.tokenKey == nil && body.tokenValue == nil ? body.userID : nil
    }

    private func profiled(_ answer: OrthancWebServiceDecision.ProfileAnswer, _ context: TollgateRequestContext) -> Answer {
        switch answer {
        case .indeterminate(let decision, let reason):
            context.noteAudit(.userProfile)
            context.noteDecision(decision)
            return OrthancReplies.error("cannot decide: \(reason)", status: .serviceUnavailable, requestID: context.requestID)
        case .profile(let profile, let decision):
            if let decision {
                context.noteAudit(.userProfile)
                context.noteDecision(decision)
                if decision.isAllowed { context.noteOrthanc(OrthancAccess(method: nil, level: nil, resource: nil, user: profile.userID ?? profile.name)) }
            }
            return OrthancReplies.profile(profile)
        }
    }

    private func decode(_ request: Request, _ context: TollgateRequestContext) async -> Answer {
        await OrthancBody.answer(WebServiceRequest.self, from: request, limit: maxBodyBytes, context: context) { body in
            await decode(body, context)
        }
    }

    private func decode(_ body: WebServiceRequest, _ context: TollgateRequestContext) async -> Answer {
        guard let token = Self.token(body) else { return OrthancReplies.json(#"{"error-code":"unknown","resources":[]}"#) }
        switch await shareTokens.inspect(token) {
        case .invalid:
            context.noteAudit(.invalidShareToken) { note in
                note.outcome = .denied
                note.reason = "the share token given to /tokens/decode is not valid"
            }
            return OrthancReplies.json(#"{"error-code":"invalid","resources":[]}"#)
        case .expired(let type):
            return OrthancReplies.json(JSONText.object([("token-type", .string(type)), ("error-code", .string("expired")), ("resources", .raw("[]"))]))
        case .valid(let type, let resources, _, _):
            var members: [(String, JSONText.Value)] = [("token-type", .string(type))]
            if let redirect = shareTokens.redirectURL(type: type, resources: resources, token: token) { members.append(("redirect-url", .string(redirect))) }
            members.append(("resources", OrthancReplies.resources(resources)))
            return OrthancReplies.json(JSONText.object(members))
        }
    }

    private func create(_ request: Request, _ context: TollgateRequestContext) async -> Answer {
        let type = context.parameters.get("type") ?? ""
        return await OrthancBody.answer(CreationRequest.self, from: request, limit: maxBodyBytes, context: context) { body in
            await create(type: type, body, context)
        }
    }

    private func create(type: String, _ body: CreationRequest, _ context: TollgateRequestContext) async -> Answer {
        do {
            let created = try await shareTokens.create(type: PrintableText.clean(type, limit: 64), request: body)
            context.noteAudit(.shareLinkCreate) { note in
                note.shareLink = AuditEvent.ShareLink(
                    type: PrintableText.clean(type, limit: 64),
                    studies: body.resources.compactMap { AuditEvent.clean($0.dicomUID ?? $0.orthancID, limit: 128) },
                    lifetimeSeconds: created.lifetimeSeconds)
            }
            let echoed = created.request
            let requestJSON = JSONText.object([
                ("id", echoed.id.map { .string($0) } ?? .null),
                ("server-id", echoed.serverID.map { .string($0) } ?? .null),
                ("resources", OrthancReplies.resources(echoed.resources)),
                ("type", .string(type)),
                ("expiration-date", echoed.expirationDate.map { .string($0) } ?? .null),
                ("validity-duration", .null),
            ])
            return OrthancReplies.json(
                JSONText.object([
                    ("request", .raw(requestJSON)), ("token", .string(created.token)), ("url", created.url.map { .string($0) } ?? .null),
                ]))
        } catch {
            guard case .badRequest(let message) = error else { return OrthancReplies.error("cannot create the token", status: .internalServerError) }
            return OrthancReplies.error(message, status: .badRequest, requestID: context.requestID)
        }
    }

    private func rolesDocument() -> Answer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(profiles.roles) else { return OrthancReplies.error("cannot render roles", status: .internalServerError) }
        return OrthancReplies.json(String(decoding: data, as: UTF8.self))
    }

    private func replaceRoles(_ request: Request, _ context: TollgateRequestContext) async -> Answer {
        await OrthancBody.answer(OrthancRolesDocument.self, from: request, limit: maxBodyBytes, context: context) { document in
            await replaceRoles(document, context)
        }
    }

    private func replaceRoles(_ document: OrthancRolesDocument, _ context: TollgateRequestContext) async -> Answer {
        do {
            context.noteAudit(.rolesUpdate)
            try await profiles.replaceRoles(document)
            return rolesDocument()
        } catch {
            switch error {
            case .readOnly:
                return OrthancReplies.error(
                    "roles are read-only here: set orthanc.permissions.roles_file to edit them from Orthanc", status: .forbidden, requestID: context.requestID)
            case .invalid(let problems):
                return OrthancReplies.error(problems.map(\.description).joined(separator: "; "), status: .badRequest, requestID: context.requestID)
            case .unwritable(let message):
                return OrthancReplies.error(message, status: .internalServerError, requestID: context.requestID)
            }
        }
    }
}

/// A JSON body read within the size limit, or what is wrong with it.
enum OrthancBody {
    enum Problem: Error {
        case tooLarge
        case invalid(ConfigError)
        case shape

        /// The 413 or 400 that says so.
        func answer(_ context: TollgateRequestContext) -> Answer {
            switch self {
            case .tooLarge:
                OrthancReplies.error("request body too large", status: .contentTooLarge, requestID: context.requestID)
            case .invalid(let error):
                OrthancReplies.error("invalid body: \(error.description)", status: .badRequest, requestID: context.requestID)
            case .shape:
                OrthancReplies.error("body must be a JSON object of the expected shape", status: .badRequest, requestID: context.requestID)
            }
        }
    }

    /// The route's answer: `answer` given the body, or the 413/400 that says what is wrong with it.
    static func answer<T: Decodable>(
        _ type: T.Type, from request: Request, limit: Int, context: TollgateRequestContext, _ answer: (T) async -> Answer
    ) async -> Answer {
        switch await decode(type, from: request, limit: limit) {
        case .success(let body): return await answer(body)
        case .failure(let problem): return problem.answer(context)
        }
    }

    /// The same for a body the event loop holds whole: `settle`'s answer (nil: it must wait), or the 400.
    static func settle<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, _ settle: (T) -> SettledAnswer?) -> SettledAnswer? {
        switch read(type, from: buffer) {
        case .success(let body): return settle(body)
        case .failure(let problem): return problem.answer
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async -> Result<T, Problem> {
        do {
            return read(type, from: try await request.collectBody(limit: limit))
        } catch .tooLarge {
            return .failure(.tooLarge)
        } catch {
            return .failure(.shape)
        }
    }

    /// A body already held whole.
    private static func read<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) -> Result<T, Problem> {
        do {
            return .success(try StrictJSON.decode(T.self, from: buffer.readableBytesView))
        } catch let error as ConfigError {
            return .failure(.invalid(error))
        } catch {
            return .failure(.shape)
        }
    }
}

/// An answer decided without waiting, given once the request's context exists (where all that is
/// noted about it goes).
typealias SettledAnswer = (TollgateRequestContext) -> Answer
