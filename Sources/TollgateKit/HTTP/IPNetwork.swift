package import NIOCore

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is a
/// single host). IPv4-mapped IPv6 peers (`::ffff:10.1.2.3`, seen on a dual-stack listener)
/// match IPv4 networks. Checked per forwarded request, so without allocating.
package struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// IPv4 in the low 32 bits of `low` (`high` unused), or IPv6 as two big-endian halves.
    let isV4: Bool
    let high: UInt64
    let low: UInt64
    let maskHigh: UInt64
    let maskLow: UInt64
    let prefixLength: Int

    /// Nil unless `text` is an address with an optional `/prefix` within the family's width.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = try? SocketAddress(ipAddress: String(parts[0]), port: 0), let value = Self.value(of: address) else { return nil }
        let width = value.isV4 ? 32 : 128
        var prefix = width
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(parts[1]), (0...width).contains(number) else { return nil }
            prefix = number
        }
        isV4 = value.isV4
        prefixLength = prefix
        if isV4 {
            maskHigh = 0
            maskLow = prefix == 0 ? 0 : (UInt64(UInt32.max) << (32 - prefix)) & UInt64(UInt32.max)
        } else {
            maskHigh = prefix == 0 ? 0 : prefix >= 64 ? .max : .max << (64 - prefix)
            maskLow = prefix <= 64 ? 0 : prefix == 128 ? .max : .max << (128 - prefix)
        }
        high = value.high & maskHigh
        low = value.low & maskLow
    }

    /// Whether every address in the network is a loopback address (inside 127.0.0.0/8, or ::1).
    package var isLoopbackOnly: Bool {
        isV4 ? prefixLength >= 8 && low >> 24 == 127 : prefixLength == 128 && high == 0 && low == 1
    }

    package var description: String { "\(isV4 ? "IPv4" : "IPv6")/\(prefixLength)" }

    package func contains(_ address: SocketAddress) -> Bool {
        guard let peer = Self.value(of: address) else { return false }
        if isV4 {
            let v4: UInt64
            if peer.isV4 {
                v4 = peer.low
            } else if peer.high == 0, peer.low >> 32 == 0xFFFF {
                v4 = peer.low & UInt64(UInt32.max)
            } else {
                return false
            }
            return v4 & maskLow == low
        }
        return !peer.isV4 && peer.high & maskHigh == high && peer.low & maskLow == low
    }

    static func value(of address: SocketAddress) -> (isV4: Bool, high: UInt64, low: UInt64)? {
        switch address {
        case .v4(let v4):
            return (true, 0, UInt64(UInt32(bigEndian: v4.address.sin_addr.s_addr)))
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            return withUnsafeBytes(of: &raw) { bytes in
                (
                    false, bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).bigEndian,
                    bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian
                )
            }
        default:
            return nil
        }
    }
}

extension [IPNetwork] {
    /// Whether `address` lies in any of these networks; an unknown address (a Unix socket) never does.
    package func contains(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        return contains { $0.contains(address) }
    }
}
