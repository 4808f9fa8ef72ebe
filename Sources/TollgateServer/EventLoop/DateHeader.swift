import Synchronization
import TollgateKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `Date` header Hummingbird adds to every answer, for the event-loop answers: formatted
/// (Kit's `HTTPDate.format`) once a second.
final class DateHeader: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    var now: String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = Int(spec.tv_sec)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, HTTPDate.format(epochSeconds: second)) }
            return cached.text
        }
    }
}
