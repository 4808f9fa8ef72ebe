extension StrictJSON {
    /// A `Decodable` document from the network, read strictly: the bytes must pass `StrictJSON` first
    /// (no duplicate members, no lone surrogates, bounded depth, nothing trailing), so the decoder
    /// never has to pick between two values of one member; the type is then read from that one parse.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try JSONNodeDecoder.value(T.self, try parse(bytes)) { [] }
    }
}
