import Foundation

extension StrictJSON {
    /// A `Decodable` document from the network, read strictly: the bytes must pass `StrictJSON` first
    /// (no duplicate members, no lone surrogates, bounded depth, nothing trailing), so the decoder
    /// never has to pick between two values of one member.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        _ = try parse(bytes)
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}
