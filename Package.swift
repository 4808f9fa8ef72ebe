// swift-tools-version:6.1
import PackageDescription

// The architecture, enforced by the compiler (docs/architecture.md draws it):
//
//   TollgateKit            shared utilities, no HTTP server
//   TollgateConfiguration  config.yaml types, loading, substitution, validation   → Kit
//   TollgateInbound        authenticator, cache, policy, introspection, JWT, Orthanc profiles/share tokens → Kit, Configuration
//   TollgateOutbound       token sources, outbound servers, Orthanc push, proxy    → Kit, Configuration
//   TollgateDevIssuer      the embedded OAuth2 issuer                              → Kit, Configuration
//   TollgateRegistry       runtime connections: stores, envelope encryption, the API's operations → Kit, Configuration, Outbound
//   CTollgateExecutorHook  C: the Swift runtime's global-enqueue hook (for NIO's executor takeover)
//   TollgateServer         everything Hummingbird: adapters, middleware, probes     → all of the above
//   TollgateCLI            the `tollgate` executable                               → Server, Configuration
//   TollgateBench          the `tollgate-bench` executable (not shipped)           → Inbound, DevIssuer (and SwiftNIO for its floor server)
//   TollgateFuzz(Harness)  libFuzzer targets over the input parsers (not shipped)  → Kit, Configuration, Inbound, Outbound
//
// Inbound and Outbound never import each other, and only Server imports Hummingbird.

let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let jwtKit = Target.Dependency.product(name: "JWTKit", package: "jwt-kit")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "CryptoExtras", package: "swift-crypto")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
/// Swift 6 access-level imports: a module's imports are its own unless a file says `package import`, so
/// what a module exposes names every module it exposes types of.
let internalImports: [SwiftSetting] = [.enableUpcomingFeature("InternalImportsByDefault")]
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")
let w3cTraceContext = Target.Dependency.product(name: "W3CTraceContext", package: "swift-w3c-trace-context")
let semanticConventions = Target.Dependency.product(name: "OTelSemanticConventions", package: "swift-otel-semantic-conventions")

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tollgate", targets: ["TollgateCLI"]),
        .executable(name: "tollgate-bench", targets: ["TollgateBench"]),
        .executable(name: "tollgate-fuzz", targets: ["TollgateFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        // OTLP over HTTP only: the gRPC exporter would add grpc-swift to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // Attribute names only (no Tracing trait): the conventions' names, checked by the compiler.
        .package(url: "https://github.com/swift-otel/swift-otel-semantic-conventions.git", from: "1.44.0", traits: []),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(
            name: "TollgateKit",
            dependencies: [asyncHTTPClient, crypto, nioCore, nioHTTP1, nioSSL, tracing, w3cTraceContext, semanticConventions],
            swiftSettings: internalImports
        ),
        .target(
            name: "TollgateConfiguration",
            dependencies: ["TollgateKit", logging, .product(name: "Yams", package: "Yams")],
            swiftSettings: internalImports
        ),
        .target(
            name: "TollgateInbound",
            dependencies: [
                "TollgateKit", "TollgateConfiguration", asyncHTTPClient, jwtKit, crypto, nioCore, logging, tracing,
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: internalImports
        ),
        .target(
            name: "TollgateOutbound",
            dependencies: ["TollgateKit", "TollgateConfiguration", asyncHTTPClient, jwtKit, logging, nioCore, nioHTTP1, httpTypes,
                           .product(name: "NIOPosix", package: "swift-nio"), nioSSL],
            swiftSettings: internalImports
        ),
        .target(
            name: "TollgateRegistry",
            dependencies: ["TollgateKit", "TollgateConfiguration", "TollgateOutbound", "TollgateInbound", asyncHTTPClient, crypto, logging, nioCore,
                           .product(name: "SQLiteNIO", package: "sqlite-nio"), .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: internalImports
        ),
        .target(
            name: "TollgateDevIssuer",
            dependencies: ["TollgateKit", "TollgateConfiguration", jwtKit, crypto, cryptoExtras],
            swiftSettings: internalImports
        ),
        .target(name: "CTollgateExecutorHook"),
        .target(
            name: "TollgateServer",
            dependencies: [
                "TollgateKit", "TollgateConfiguration", "TollgateInbound", "TollgateOutbound", "TollgateDevIssuer", "TollgateRegistry",
                "CTollgateExecutorHook", hummingbird, .product(name: "DequeModule", package: "swift-collections"), .product(name: "HummingbirdCore", package: "hummingbird"), asyncHTTPClient, logging, nioCore, .product(name: "NIOPosix", package: "swift-nio"), httpTypes,
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTLS", package: "hummingbird"), nioSSL, x509, nioHTTP1,
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"), .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                tracing, .product(name: "OTel", package: "swift-otel"), .product(name: "Mustache", package: "swift-mustache"), semanticConventions,
            ],
            // The console's templates and stylesheet, compiled into the binary (the image carries no resource bundle).
            resources: [
                "layout", "message", "overview", "connections", "connection", "delete", "orthanc",
            ].map { .embedInCode("Console/Templates/\($0).mustache") } + [.embedInCode("Console/Templates/console.css")],
            swiftSettings: internalImports
        ),
        .executableTarget(
            name: "TollgateCLI",
            dependencies: [
                "TollgateServer", "TollgateConfiguration", "TollgateKit", "TollgateRegistry", asyncHTTPClient, nioCore, nioHTTP1,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: internalImports
        ),
        .executableTarget(
            name: "TollgateBench",
            dependencies: [
                "TollgateInbound", "TollgateDevIssuer", "TollgateConfiguration", "TollgateKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // The floor reference: a plain SwiftNIO HTTP/1 server (bench/floor.py).
                nioCore, .product(name: "NIOPosix", package: "swift-nio"), nioHTTP1,
            ],
            swiftSettings: internalImports
        ),
        // libFuzzer targets over the parsers that read network and config input (scripts/fuzz.sh).
        .target(
            name: "TollgateFuzzHarness",
            dependencies: ["TollgateKit", "TollgateConfiguration", "TollgateInbound", "TollgateOutbound", nioCore],
            swiftSettings: internalImports
        ),
        .executableTarget(name: "TollgateFuzz", dependencies: ["TollgateFuzzHarness"], swiftSettings: internalImports),
        .testTarget(name: "TollgateKitTests", dependencies: ["TollgateKit"]),
        .testTarget(name: "TollgateFuzzHarnessTests", dependencies: ["TollgateFuzzHarness"]),
        .testTarget(name: "TollgateConfigurationTests", dependencies: ["TollgateConfiguration", "TollgateKit"]),
        .testTarget(name: "TollgateInboundTests", dependencies: ["TollgateInbound", "TollgateConfiguration", "TollgateKit"]),
        .testTarget(name: "TollgateRegistryTests", dependencies: ["TollgateRegistry", "TollgateConfiguration", "TollgateKit", asyncHTTPClient]),
        .testTarget(name: "TollgateOutboundTests", dependencies: ["TollgateOutbound", "TollgateKit", nioCore, nioHTTP1,
                                                                .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(
            name: "TollgateServerTests",
            dependencies: [
                "TollgateServer", "TollgateInbound", "TollgateOutbound", "TollgateDevIssuer", "TollgateConfiguration", "TollgateKit",
                hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"),
                asyncHTTPClient, jwtKit, crypto, cryptoExtras, nioCore, nioHTTP1, .product(name: "Yams", package: "Yams"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                nioSSL, x509, tracing,
            ]
        ),
    ]
)
