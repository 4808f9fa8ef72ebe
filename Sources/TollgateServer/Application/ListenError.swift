import Foundation
import NIOCore

/// The listen address could not be taken, said in words with what to do, instead of a raw
/// `bind(descriptor:…)` errno.
package struct ListenError: Error, CustomStringConvertible {
    package let host: String
    package let port: Int
    let errno: Int32

    static func explains(_ error: IOError) -> Bool {
        [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode)
    }

    package var description: String {
        let reason =
            switch errno {
            case EADDRINUSE: "the address is already in use (another Tollgate, or another service, listens there)"
            case EACCES: "permission denied (ports below 1024 need privileges)"
            default: "the address is not available on this machine"
            }
        return "cannot listen on \(host):\(port): \(reason); choose another with --host/--port or server.host/server.port"
    }
}
