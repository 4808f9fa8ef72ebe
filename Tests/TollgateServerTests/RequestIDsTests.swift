import Testing
@testable import TollgateServer

@Suite("request ids")
struct RequestIDsTests {
    @Test func requestIDsAreUniqueAndUUIDShaped() {
        let ids = RequestIDs()
        let made = (0..<1000).map { _ in ids.next() }
        #expect(Set(made).count == 1000)
        let shape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
        #expect(made.allSatisfy { $0.wholeMatch(of: shape) != nil })
        #expect(made[0].prefix(18) == made[999].prefix(18))  // the per-process half
        #expect(RequestIDs().next().prefix(18) != made[0].prefix(18))
    }
}
