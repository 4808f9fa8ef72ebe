import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwiftASN1
import Testing
import X509
@testable import TollgateServer
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// `server.tls` and `admin.auth_mode: mtls`, with certificates made here.
@Suite("TLS and mTLS callers")
struct ServerTLSTests {
    struct Issued {
        let certificatePEM: String
        let keyPEM: String
        var nioCertificate: NIOSSLCertificate { try! NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem) }
        var nioKey: NIOSSLPrivateKey { try! NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem) }
    }

    final class Authority: Sendable {
        let key = P256.Signing.PrivateKey()
        let name: DistinguishedName
        let certificate: Certificate

        init(_ commonName: String) throws {
            name = try DistinguishedName { CommonName(commonName) }
            let now = Date()
            certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true))
                },
                issuerPrivateKey: .init(key))
        }

        var pem: String { try! certificate.serializeAsPEM().pemString }

        func issue(commonName: String, server: Bool) throws -> Issued {
            let leafKey = P256.Signing.PrivateKey()
            let now = Date()
            let leaf = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
                notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: name,
                subject: try DistinguishedName { CommonName(commonName) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    try ExtendedKeyUsage([server ? .serverAuth : .clientAuth])
                    SubjectAlternativeNames(
                        server
                            ? [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
                            : [.uniformResourceIdentifier("spiffe://hospital/ns/pacs/sa/" + commonName)])
                },
                issuerPrivateKey: .init(key))
            return Issued(certificatePEM: try leaf.serializeAsPEM().pemString, keyPEM: leafKey.pemRepresentation)
        }
    }

    final class Files {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-tls-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        func write(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            // As cert-manager does: a new file put in place, not the old one rewritten.
            let staging = path + ".new"
            try text.write(toFile: staging, atomically: false, encoding: .utf8)
            guard rename(staging, path) == 0 else { throw TestFailure("rename \(staging)") }
            return path
        }
        /// A server certificate from `ca`, with `ca` also as the CA of client certificates.
        func serverTLS(from ca: Authority, clientAuth: ServerTLSConfig.ClientAuth) throws -> ServerTLSConfig {
            let server = try ca.issue(commonName: "tollgate", server: true)
            return ServerTLSConfig(
                certFile: try write("tls.crt", server.certificatePEM), keyFile: try write("tls.key", server.keyPEM),
                clientCAFile: try write("ca.crt", ca.pem), clientAuth: clientAuth)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    /// A Tollgate over HTTPS, started by hand (the shared harness speaks plain HTTP).
    struct Running {
        let app: TollgateApp
        let task: Task<Void, any Error>
        let port: Int
        func stop() async {
            await app.shutdown()
            _ = await task.result
        }
    }

    static func start(_ adjust: @escaping (inout TollgateConfig) -> Void) async throws -> Running {
        let port = try await freePort()
        let app = try await TollgateApp(config: devConfig(port: port, adjust), logger: LogCapture().logger())
        let task = Task { try await app.run(signals: []) }
        // Listening is enough: TCP connect succeeds once the server is up.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
                try? await channel.close().get()
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Running(app: app, task: task, port: port)
    }

    /// One request on a fresh TLS connection (a new handshake each time); nil when the handshake or
    /// the exchange failed. A plain NIO client: AsyncHTTPClient retries failed connections until
    /// its deadline, which would make every expected refusal take that long.
    static func get(
        _ path: String, port: Int, trusting authority: Authority, presenting client: Issued? = nil, headers: [(String, String)] = []
    ) async -> (status: UInt, body: String)? {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try! NIOSSLCertificate(bytes: Array(authority.pem.utf8), format: .pem)])
        if let client {
            tls.certificateChain = [.certificate(client.nioCertificate)]
            tls.privateKey = .privateKey(client.nioKey)
        }
        guard let context = try? NIOSSLContext(configuration: tls) else { return nil }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = eventLoop.makePromise(of: (UInt, String).self)
        let collector = ResponseCollector(promise: promise)
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(30))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            let head = HTTPRequestHead(
                version: .http1_1, method: .GET, uri: path, headers: HTTPHeaders([("Host", "127.0.0.1"), ("Connection", "close")] + headers))
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let timeout = eventLoop.scheduleTask(in: .seconds(30)) { collector.finish(.failure(TestFailure("no answer in 30 s"))) }
            let result = try? await promise.futureResult.get()
            timeout.cancel()
            try? await channel.close().get()
            return result
        } catch {
            eventLoop.execute { collector.finish(.failure(error)) }
            return nil
        }
    }

    /// Collects one HTTP answer; completes its promise exactly once, whatever happens first.
    final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        private let promise: EventLoopPromise<(UInt, String)>
        private var status: UInt = 0
        private var body = ""
        private var done = false

        init(promise: EventLoopPromise<(UInt, String)>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = UInt(head.status.code)
            case .body(let buffer): body += String(buffer: buffer)
            case .end: finish(.success((status, body)))
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            finish(.failure(error))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) { finish(.failure(TestFailure("closed before an answer"))) }

        /// Always called on the channel's event loop.
        func finish(_ result: Result<(UInt, String), any Error>) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
        }
    }

    @Test func requiredClientCertificatesAndAdminByCertificateName() async throws {
        let ca = try Authority("Hospital Test CA"), other = try Authority("Somebody Else's CA")
        let files = try Files()
        let admin = try ca.issue(commonName: "orthanc-admin", server: false)
        let stranger = try ca.issue(commonName: "viewer", server: false)
        let foreign = try other.issue(commonName: "orthanc-admin", server: false)
        let tls = try files.serverTLS(from: ca, clientAuth: .required)
        let tg = try await Self.start { config in
            config.server.tls = tls
            config.admin = AdminConfig(authMode: .mtls)
            config.admin.clientCertificates = ["URI:spiffe://hospital/ns/pacs/sa/orthanc-admin"]
        }
        defer { Task { await tg.stop() } }
        #expect(await Self.get("/health", port: tg.port, trusting: ca, presenting: admin)?.status == 200)
        #expect(await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca, presenting: admin)?.status == 200)
        let refused = await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca, presenting: stranger)
        #expect(refused?.status == 403)
        #expect(refused?.body.contains("CLIENT_CERTIFICATE_NOT_ALLOWED") == true)
        #expect(await Self.get("/health", port: tg.port, trusting: ca) == nil, "client_auth required: no certificate, no handshake")
        #expect(await Self.get("/health", port: tg.port, trusting: ca, presenting: foreign) == nil, "a certificate from another CA fails")
        // Plain HTTP on the TLS port gets no answer it could use.
        let plain = try? await rawHTTPStatus(port: tg.port, target: "/health")
        #expect(plain != 200)
    }

    @Test func optionalClientCertificatesLetOthersInButNotToAdmin() async throws {
        let ca = try Authority("Hospital Test CA")
        let files = try Files()
        let admin = try ca.issue(commonName: "orthanc-admin", server: false)
        let tls = try files.serverTLS(from: ca, clientAuth: .optional)
        let tg = try await Self.start { config in
            config.server.tls = tls
            config.admin = AdminConfig(authMode: .mtls)
            config.admin.clientCertificates = ["CN=orthanc-admin"]
        }
        defer { Task { await tg.stop() } }
        #expect(await Self.get("/health", port: tg.port, trusting: ca)?.status == 200)
        let anonymous = await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca)
        #expect(anonymous?.status == 401)
        #expect(anonymous?.body.contains("CLIENT_CERTIFICATE_REQUIRED") == true)
        #expect(await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca, presenting: admin)?.status == 200)
    }

    /// `console.auth: mtls`: the verified certificate is the sign-in, for the names `admin.client_certificates` lists.
    @Test func theConsoleSignsInByClientCertificate() async throws {
        let ca = try Authority("Hospital Test CA")
        let files = try Files()
        let admin = try ca.issue(commonName: "orthanc-admin", server: false)
        let stranger = try ca.issue(commonName: "someone-else", server: false)
        let tls = try files.serverTLS(from: ca, clientAuth: .optional)
        let tg = try await Self.start { config in
            config.server.tls = tls
            config.admin.clientCertificates = ["CN=orthanc-admin"]
            config.console.enabled = true
            config.console.auth = .mtls
        }
        defer { Task { await tg.stop() } }
        let none = await Self.get("/console/login", port: tg.port, trusting: ca)
        #expect(none?.status == 403 && none?.body.contains("presented none") == true, "\(String(describing: none))")
        let other = await Self.get("/console/login", port: tg.port, trusting: ca, presenting: stranger)
        #expect(other?.status == 403 && other?.body.contains("not one admin.client_certificates names") == true)
        #expect(await Self.get("/console/login", port: tg.port, trusting: ca, presenting: admin)?.status == 303, "signed in")
        #expect(await Self.get("/console", port: tg.port, trusting: ca, presenting: admin)?.status == 303, "a session needs its cookie too")
    }

    /// RFC 8705 over Tollgate's own TLS listener: a token whose `cnf.x5t#S256` names a client
    /// certificate passes a bearer route only on a connection that presented that certificate.
    @Test func aCertificateBoundTokenPassesOnlyWithItsCertificate() async throws {
        let ca = try Authority("Hospital Test CA")
        let files = try Files()
        let client = try ca.issue(commonName: "modality", server: false)
        let other = try ca.issue(commonName: "another-modality", server: false)
        let tls = try files.serverTLS(from: ca, clientAuth: .optional)
        let forge = TokenForge()
        let tg = try await Self.start { config in
            config.server.tls = tls
            JWTTests.jwtIssuer(&config)
            // The dev issuer's JWKS is served over this TLS listener (its discovery document names http).
            config.inbound.issuers[0].tls.caFile = tls.clientCAFile
            config.inbound.issuers[0].jwksURI = "https://127.0.0.1:\(config.server.port)/dev-issuer/jwks"
            config.admin = AdminConfig(authMode: .bearer)
        }
        defer { Task { await tg.stop() } }
        tg.app.devIssuer!.publish(jwkJSON: forge.rsaJWK)
        // The keys come over this TLS listener: on a loaded machine the first fetch may come too early.
        let keys = tg.app.authenticator.issuers[0].jwks!
        try await waitUntil(seconds: 30) { if case .loaded = await keys.refresh() { true } else { false } }
        let der = try #require(Data(base64Encoded: client.certificatePEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()))
        let thumbprint = TokenForge.b64(Data(SHA256.hash(data: der)))
        let bound = forge.valid(issuer: tg.app.devIssuer!.issuerURL, now: Date().timeIntervalSince1970, claims: ["cnf": ["x5t#S256": thumbprint]])
        let bearer = [("Authorization", "Bearer " + bound)]
        let withCertificate = await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca, presenting: client, headers: bearer)
        #expect(withCertificate?.status == 200, "\(String(describing: withCertificate))")
        #expect(await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca, presenting: other, headers: bearer)?.status == 401)
        #expect(await Self.get("/dicomweb-oauth/servers", port: tg.port, trusting: ca, headers: bearer)?.status == 401)
    }

    @Test func aRotatedCertificateIsServedWithoutARestart() async throws {
        let first = try Authority("CA 2026"), second = try Authority("CA 2027")
        let files = try Files()
        let old = try first.issue(commonName: "tollgate", server: true)
        let certFile = try files.write("tls.crt", old.certificatePEM)
        let keyFile = try files.write("tls.key", old.keyPEM)
        let tg = try await Self.start { $0.server.tls = ServerTLSConfig(certFile: certFile, keyFile: keyFile) }
        defer { Task { await tg.stop() } }
        let source = try #require(tg.app.serverTLS)
        #expect(await Self.get("/health", port: tg.port, trusting: first)?.status == 200)
        #expect(await Self.get("/health", port: tg.port, trusting: second) == nil)

        // A half-done rotation (new certificate, old key) is not taken: the old pair keeps serving.
        let new = try second.issue(commonName: "tollgate", server: true)
        _ = try files.write("tls.crt", new.certificatePEM)
        #expect(source.reloadIfChanged() == false)
        #expect(await Self.get("/health", port: tg.port, trusting: first)?.status == 200)

        _ = try files.write("tls.key", new.keyPEM)
        #expect(source.reloadIfChanged() == true)
        #expect(await Self.get("/health", port: tg.port, trusting: second)?.status == 200)
        #expect(await Self.get("/health", port: tg.port, trusting: first) == nil)
    }
}
