import Synchronization
import TollgateInbound
import TollgateKit

/// The last refusals this process made, newest first, for the console's overview: when, which
/// route, why (the reason label), under which rule, and whose token (the subject, cleaned: it
/// came from an IdP). A ring of fixed size; nothing else is kept.
final class RecentDenials: Sendable {
    struct Entry: Sendable {
        let time: Double
        let route: String
        let status: Int
        let reason: String
        let rule: String?
        let subject: String?
        let issuer: String?
    }

    static let capacity = 50
    private let ring = Mutex<(entries: [Entry?], next: Int)>((Array(repeating: nil, count: capacity), 0))
    private let clock: any TollgateClock

    init(clock: any TollgateClock) {
        self.clock = clock
    }

    /// Keeps `decision` when it refused.
    func record(_ decision: Decision, route: String, status: Int, rule: String?) {
        guard !decision.isAllowed else { return }
        let entry = Entry(
            time: clock.now(), route: route, status: status, reason: decision.reasonLabel, rule: rule,
            subject: decision.principal?.claims.subject.map { PrintableText.clean($0, limit: 128) }, issuer: decision.issuer)
        ring.withLock { ring in
            ring.entries[ring.next] = entry
            ring.next = (ring.next + 1) % Self.capacity
        }
    }

    /// Newest first.
    var entries: [Entry] {
        ring.withLock { ring in
            (0..<Self.capacity).compactMap { offset in ring.entries[(ring.next - 1 - offset + 2 * Self.capacity) % Self.capacity] }
        }
    }
}
