import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import TollgateServer
@testable import TollgateInbound
@testable import TollgateOutbound
@testable import TollgateDevIssuer
import TollgateConfiguration
import TollgateKit

/// The token-injecting reverse proxy against an upstream written in the test.
/// Sends a request line exactly as written (no client-side path normalisation) and returns the status.
func rawHTTPStatus(port: Int, target: String, headers: [String] = []) async throws -> Int {
    let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: String.self)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StatusLineCollector(promise: promise)) }
        }
        .connect(host: "127.0.0.1", port: port).get()
    let head = (["GET \(target) HTTP/1.1", "Host: 127.0.0.1", "Connection: close"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
    try await channel.writeAndFlush(ByteBuffer(string: head)).get()
    let text = try await promise.futureResult.get()
    try? await channel.close().get()
    let statusLine = text.split(separator: "\r\n").first ?? ""
    return Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? -1
}

/// Collects bytes until the status line is in, then completes the promise (once).
final class StatusLineCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let promise: EventLoopPromise<String>
    private var text = ""
    private var done = false

    init(promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        text += buffer.readString(length: buffer.readableBytes) ?? ""
        if text.contains("\r\n") { finish() }
    }

    func channelInactive(context: ChannelHandlerContext) { finish() }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish()
        context.close(promise: nil)
    }

    private func finish() {
        guard !done else { return }
        done = true
        promise.succeed(text)
    }
}
