package import AsyncHTTPClient
import Foundation
package import Logging
import NIOCore
import NIOHTTP1
import Synchronization
package import TollgateConfiguration
package import TollgateKit

package protocol OrthancPushObserver: Sendable {
    func orthancPushed(orthancServer: String, result: String)
}

/// Keeps DICOMweb peer definitions in Orthanc carrying a valid bearer token. Orthanc has no hook
/// for outgoing requests and persists nothing set at run time, so Tollgate PUTs the whole
/// definition after every token refresh and whenever a periodic check finds it missing or about
/// to expire (after an Orthanc restart the config-file definition is back). `GET
/// /dicom-web/servers?expand` shows header names, never values, so each push adds a user property
/// (`TollgateTokenExpires`) carrying the pushed token's expiry: any Tollgate replica can tell
/// whether the definition in Orthanc is still good, and replicas sharing one Orthanc do not undo
/// each other's pushes. A user property stays in Orthanc; it is never sent to the peer.
package final class OrthancPusher: Sendable {
    struct Target: Sendable {
        let name: String
        /// The outbound server or runtime connection the token comes from.
        let source: String
        let url: String
        let extra: [String: JSONNode]
        let staticHeaders: [(name: String, value: String)]
        let token: @Sendable () async -> AccessToken?
    }

    private struct PushState {
        var pushedToken: AccessToken?
        var lastPush: Double?
        var lastError: String?
        var failures = 0
        var nextAttemptAt = 0.0
        var lastCheckAt = 0.0
    }

    let targets: [Target]
    private let servers: OutboundServers
    private let runtime: (any RuntimePushSource)?
    /// The runtime definitions of the last look, and when it was.
    private let runtimeTargets = Mutex<(targets: [Target], at: Double)>(([], -.infinity))
    private let states: Mutex<[String: PushState]>
    private let rounds = SingleFlight<Int, Void>()
    private let base: String
    private let serversPath: String
    private let authorization: String?
    private let bearerSource: TokenSource?
    private let http: HTTPClient
    private let timeout: TimeAmount
    private let checkInterval: Double
    private let readyRequiresPush: Bool
    private let clock: any TollgateClock
    private let observer: any OrthancPushObserver
    private let logger: Logger

    package init(
        config: OrthancConfig, servers: OutboundServers, http: HTTPClient, clock: any TollgateClock,
        observer: any OrthancPushObserver, logger: Logger, runtime: (any RuntimePushSource)? = nil
    ) {
        targets = config.dicomwebServers.sorted { $0.key < $1.key }.compactMap { name, definition in
            servers[definition.outboundServer].map { server in
                let tokens = server.tokens
                return Target(
                    name: name, source: server.name, url: Self.orthancStoredURL(definition.url ?? server.url), extra: definition.extra,
                    staticHeaders: server.staticHeaders, token: { tokens.usableToken })
            }
        }
        self.runtime = runtime
        self.servers = servers
        states = Mutex(Dictionary(uniqueKeysWithValues: targets.map { ($0.name, PushState()) }))
        let url = config.url ?? ""
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
        serversPath = config.dicomWebRoot + "servers"
        authorization = config.username.flatMap { user in
            config.password.map { BasicAuthorization.value(user: user, password: $0.value) }
        }
        bearerSource = config.bearerFrom.flatMap { servers[$0]?.tokens }
        self.http = http
        timeout = .configured(milliseconds: config.timeoutMS)
        checkInterval = Double(config.checkIntervalSeconds)
        readyRequiresPush = config.readyRequiresPush
        self.clock = clock
        self.observer = observer
        self.logger = logger
    }

    /// Runs until cancelled, looking at every target once a second.
    package func run() async {
        while !Task.isCancelled {
            await tendAll()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// One look at every target: push what is stale, check what is due (by the injected clock).
    /// Rounds never overlap: a caller arriving during one joins it, so a definition is never
    /// pushed twice because two rounds both saw it stale.
    package func tendAll() async {
        _ = await rounds.run(0) {
            for target in self.targets { await self.tend(target) }
            for target in await self.currentRuntimeTargets() { await self.tend(target) }
        }
    }

    /// The runtime definitions, asked for every few seconds. One that disappeared (its connection
    /// was deleted, or its `orthanc_push` removed) is deleted from Orthanc if this process pushed it.
    private func currentRuntimeTargets() async -> [Target] {
        guard let runtime else { return [] }
        let now = clock.now()
        let (held, at) = runtimeTargets.withLock { ($0.targets, $0.at) }
        guard now - at >= min(5, checkInterval) else { return held }
        let configured = Set(targets.map(\.name))
        var seen = Set<String>()
        let fresh = await runtime.pushTargets().compactMap { target -> Target? in
            guard !configured.contains(target.name), seen.insert(target.name).inserted else { return nil }
            return Target(
                name: target.name, source: target.source, url: Self.orthancStoredURL(target.url), extra: target.extra,
                staticHeaders: [], token: target.token)
        }
        runtimeTargets.withLock { $0 = (fresh, now) }
        for gone in held where !seen.contains(gone.name) { await remove(gone) }
        return fresh
    }

    /// Deletes a definition this process pushed and no longer keeps.
    private func remove(_ target: Target) async {
        let pushed = states.withLock { $0.removeValue(forKey: target.name)?.lastPush != nil }
        guard pushed else { return }
        var request = HTTPClientRequest(url: base + serversPath + "/" + FormEncoding.encode(target.name))
        request.method = .DELETE
        request.headers = await headers(contentType: false)
        let result: String
        switch await HTTPFetch.send(request, client: http, timeout: timeout, call: "orthanc_push") {
        case .success(let response) where (200..<300).contains(response.status) || response.status == 404: result = "removed"
        default: result = "error"
        }
        observer.orthancPushed(orthancServer: target.name, result: result)
        logger.info(
            "removed a runtime connection's DICOMweb definition from Orthanc",
            metadata: [
                "orthanc_server": .string(target.name), "connection": .string(target.source), "result": .string(result),
            ])
    }

    private func tend(_ target: Target) async {
        guard let token = await target.token() else { return }
        let now = clock.now()
        let (due, stale, checkDue) = withState(target.name) { s in
            (now >= s.nextAttemptAt, s.pushedToken != token, now - s.lastCheckAt >= checkInterval)
        }
        guard due else { return }
        if stale {
            await push(target, token: token, reason: "token refreshed")
        } else if checkDue {
            withState(target.name) { $0.lastCheckAt = now }
            switch await isCurrent(target, now: now) {
            case .some(true): break
            case .some(false): await push(target, token: token, reason: "definition missing or stale in Orthanc")
            case .none: recordFailure(target, "Orthanc unreachable")
            }
        }
    }

    private func push(_ target: Target, token: AccessToken, reason: String) async {
        var members: [(String, JSONText.Value)] = [
            ("Url", .string(target.url)),
            (
                "HttpHeaders",
                .raw(
                    JSONText.object(
                        target.staticHeaders.map { ($0.name, .string($0.value)) }
                            + [("Authorization", .string("Bearer " + token.value))]))
            ),
            (Self.markerProperty, .string(String(Int(saturating: token.expiresAt)))),
        ]
        for (key, value) in target.extra.sorted(by: { $0.key < $1.key }) { members.append((key, .raw(value.rendered))) }
        var request = HTTPClientRequest(url: base + serversPath + "/" + FormEncoding.encode(target.name))
        request.method = .PUT
        request.headers = await headers(contentType: true)
        request.body = .bytes(ByteBuffer(string: JSONText.object(members)))
        switch await HTTPFetch.send(request, client: http, timeout: timeout, call: "orthanc_push") {
        case .success(let response) where (200..<300).contains(response.status):
            let now = clock.now()
            withState(target.name) { s in
                s = PushState(pushedToken: token, lastPush: now, lastError: nil, failures: 0, nextAttemptAt: 0, lastCheckAt: now)
            }
            observer.orthancPushed(orthancServer: target.name, result: "success")
            logger.info(
                "pushed DICOMweb server definition to Orthanc",
                metadata: [
                    "orthanc_server": .string(target.name), "server": .string(target.source), "reason": .string(reason),
                ])
        case .success(let response):
            recordFailure(target, "Orthanc answered HTTP \(response.status)")
        case .failure(.timeout):
            recordFailure(target, "Orthanc timed out")
        case .failure:
            recordFailure(target, "Orthanc unreachable")
        }
    }

    /// The user property carrying the pushed token's expiry (Unix seconds).
    package static let markerProperty = "TollgateTokenExpires"

    /// Orthanc stores `Url` with a trailing '/': compare (and push) it that way, or a definition
    /// would look foreign on every check and be re-pushed forever.
    static func orthancStoredURL(_ url: String) -> String {
        url.hasSuffix("/") ? url : url + "/"
    }

    /// True when Orthanc holds a Tollgate-pushed definition for this URL whose token outlives
    /// the next check comfortably; false when it is missing, foreign or expiring; nil when Orthanc
    /// could not be asked.
    private func isCurrent(_ target: Target, now: Double) async -> Bool? {
        var request = HTTPClientRequest(url: base + serversPath + "?expand")
        request.headers = await headers(contentType: false)
        guard case .success(let response) = await HTTPFetch.send(request, client: http, timeout: timeout, call: "orthanc_read"), response.status == 200,
            let all = try? StrictJSON.object(response.body.readableBytesView)
        else { return nil }
        guard let definition = all[target.name]?.object else { return false }
        let marker = definition[Self.markerProperty]
        let expiry = marker?.string.flatMap(Double.init) ?? marker?.number
        guard let expiry, expiry.isFinite, definition["Url"]?.string == target.url else { return false }
        return expiry - now > checkInterval + 5
    }

    private func recordFailure(_ target: Target, _ problem: String) {
        let now = clock.now()
        let failures = withState(target.name) { s -> Int in
            s.failures += 1
            s.lastError = problem
            s.nextAttemptAt = now + min(checkInterval, 0.5 * pow(2, Double(min(s.failures - 1, 10))))
            return s.failures
        }
        observer.orthancPushed(orthancServer: target.name, result: "error")
        logger.log(
            level: failures >= 3 ? .warning : .info, "cannot keep the DICOMweb definition current in Orthanc; retrying",
            metadata: [
                "orthanc_server": .string(target.name), "problem": .string(problem), "failures_in_a_row": .stringConvertible(failures),
            ])
    }

    private func withState<T>(_ name: String, _ body: (inout PushState) -> T) -> T {
        states.withLock { all in body(&all[name, default: PushState()]) }
    }

    private func headers(contentType: Bool) async -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let bearerSource, case .success(let token) = await bearerSource.token() {
            headers.add(name: "Authorization", value: "Bearer " + token.value)
        } else if let authorization {
            headers.add(name: "Authorization", value: authorization)
        }
        if contentType { headers.add(name: "Content-Type", value: "application/json") }
        return headers
    }

    package func status(forOutboundServer name: String) -> [OrthancPushStatus] {
        let now = clock.now()
        return targets.filter { $0.source == name }.map { target in
            let held = servers[target.source]?.tokens.usableToken
            return withState(target.name) { s in
                let current = s.pushedToken != nil && s.pushedToken == held && held?.isUsable(at: now) == true
                return OrthancPushStatus(orthancServer: target.name, current: current, lastPush: s.lastPush, lastError: s.lastError)
            }
        }
    }

    package func notReadyReasons() -> [String] {
        guard readyRequiresPush else { return [] }
        return targets.flatMap { status(forOutboundServer: $0.source) }.filter { !$0.current }.map {
            "orthanc \($0.orthancServer): definition not pushed" + ($0.lastError.map { " (\($0))" } ?? "")
        }
    }
}

package struct OrthancPushStatus: Sendable {
    package let orthancServer: String
    package let current: Bool
    package let lastPush: Double?
    package let lastError: String?
}
