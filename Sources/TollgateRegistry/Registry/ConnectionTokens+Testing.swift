import TollgateKit

/// `POST /connections/{name}/test`: a new token now, with seed 002's `testing` status while the
/// IdP is asked and `last_test_at` kept.
extension ConnectionTokens {
    package struct TestResult: Sendable {
        package let credentials: ConnectionCredentials
        package let testedAt: Double
    }

    package func test(organization: String, name: String) async throws -> TestResult {
        let record = try await resolve(organization: organization, name: name)
        let testedAt = clock.now()
        // Concurrent tests share one `testing` write: each is a row write the token's own must win over.
        let testing =
            record.status == .testing
            ? record
            : (try? await mutate(record) { row in
                row.status = .testing
                row.lastTestAt = testedAt
            })?.written ?? record
        do {
            return TestResult(credentials: try await renew(testing, minTTL: nil), testedAt: testedAt)
        } catch {
            let refusal = RegistryError.of(error, otherwise: "the registry store failed")
            // The token request marks real failures itself; anything that stopped before it (no
            // refresh token yet, a lost lease) must not leave the connection `testing`.
            if let now = try? await store.find(id: record.id), now.status == .testing {
                _ = try? await mutate(now) { row in
                    if refusal.code == .notConnected {
                        row.status = record.status == .testing ? .notConnected : record.status
                    } else {
                        row.status = .failed
                        row.statusMessage = PrintableText.clean(refusal.description, limit: 256)
                    }
                }
            }
            let now = (try? await store.find(id: record.id)) ?? record
            throw refusal.with(status: now.status, message: now.statusMessage)
        }
    }
}
