/// Why a registry operation was refused, with the outbound error body's codes. `message` is safe
/// to return: it never holds a secret, a token or IdP text that was not cleaned.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidRequest = "INVALID_REQUEST"
        case notFound = "CONNECTION_NOT_FOUND"
        case exists = "CONNECTION_EXISTS"
        /// A static `outbound.servers` entry has the name.
        case reserved = "NAME_RESERVED"
        case inUse = "CONNECTION_IN_USE"
        case preconditionRequired = "PRECONDITION_REQUIRED"
        case generationMismatch = "GENERATION_MISMATCH"
        case unsupportedFlow = "UNSUPPORTED_FLOW"
        case tokenUnavailable = "TOKEN_UNAVAILABLE"
        case storeUnavailable = "REGISTRY_UNAVAILABLE"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
