import ServiceLifecycle

/// Runs the Orthanc pusher once the HTTP server listens, until shutdown.
struct OrthancPushService: Service {
    let pusher: OrthancPusher
    let serverStarted: AsyncStream<Void>

    func run() async throws {
        for await _ in serverStarted { break }
        await cancelWhenGracefulShutdown { await pusher.run() }
        try? await gracefulShutdown()
    }
}
