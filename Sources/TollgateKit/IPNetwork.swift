import NIOCore

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is a
/// single host). IPv4-mapped IPv6 peers (`::ffff:10.1.2.3`, seen on a dual-stack listener)
/// match IPv4 networks.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let prefixLength: Int

    /// Nil unless `text` is an address with an optional `/prefix` within the family's width.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = try? SocketAddress(ipAddress: String(parts[0]), port: 0), let bytes = Self.bytes(of: address) else { return nil }
        let width = bytes.count * 8
        var prefix = width
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...width).contains(value), parts[1].allSatisfy(\.isASCII) else { return nil }
            prefix = value
        }
        self.bytes = bytes
        self.prefixLength = prefix
    }

    public var description: String { "\(bytes.count == 4 ? bytes.map(String.init).joined(separator: ".") : "IPv6")/\(prefixLength)" }

    public func contains(_ address: SocketAddress) -> Bool {
        guard var peer = Self.bytes(of: address) else { return false }
        if peer.count == 16 && bytes.count == 4, peer[0..<10].allSatisfy({ $0 == 0 }), peer[10] == 0xFF, peer[11] == 0xFF {
            peer = Array(peer[12...])
        }
        guard peer.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if peer[index] & mask != bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        default:
            return nil
        }
    }
}

extension [IPNetwork] {
    /// Whether `address` lies in any of these networks; an unknown address (a Unix socket) never does.
    public func contains(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        return contains { $0.contains(address) }
    }
}
