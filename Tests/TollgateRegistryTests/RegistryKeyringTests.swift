import Foundation
import Testing
@testable import TollgateRegistry

@Suite("registry envelope encryption")
struct RegistryKeyringTests {
    let secrets = ConnectionSecrets(clientSecret: "cs", accessToken: "at", refreshToken: "rt")

    @Test func sealsWithAFreshDataKeyAndOpensOnlyOnItsOwnRow() throws {
        let keyring = try RegistryKeyring(keys: [("k1", RegistryKeyring.generateKeyMaterial())])
        let sealed = try keyring.seal(secrets, rowID: "row-1")
        let again = try keyring.seal(secrets, rowID: "row-1")
        #expect(sealed.keyID == "k1")
        #expect(sealed.wrappedKey != again.wrappedKey && sealed.ciphertext != again.ciphertext, "a fresh data key and nonce each time")
        #expect(try keyring.open(sealed, rowID: "row-1") == secrets)
        #expect(throws: RegistryKeyring.Failure.unreadable) { try keyring.open(sealed, rowID: "row-2") }
        var tampered = sealed
        tampered.ciphertext[tampered.ciphertext.count - 1] ^= 1
        #expect(throws: RegistryKeyring.Failure.unreadable) { try keyring.open(tampered, rowID: "row-1") }
        var swapped = sealed
        swapped.wrappedKey = again.wrappedKey
        #expect(throws: RegistryKeyring.Failure.unreadable) { try keyring.open(swapped, rowID: "row-1") }
    }

    @Test func rotationRewrapsTheDataKeyUnderTheNewFirstKey() throws {
        let old = RegistryKeyring.generateKeyMaterial(), new = RegistryKeyring.generateKeyMaterial()
        let before = try RegistryKeyring(keys: [("2026-01", old)])
        let sealed = try before.seal(secrets, rowID: "row-1")
        let after = try RegistryKeyring(keys: [("2026-11", new), ("2026-01", old)])
        #expect(try after.open(sealed, rowID: "row-1") == secrets, "old rows still open")
        let moved = try #require(try after.rewrapped(sealed, rowID: "row-1"))
        #expect(moved.keyID == "2026-11" && moved.ciphertext == sealed.ciphertext)
        #expect(try after.rewrapped(moved, rowID: "row-1") == nil)
        let retired = try RegistryKeyring(keys: [("2026-11", new)])
        #expect(try retired.open(moved, rowID: "row-1") == secrets)
        #expect(throws: RegistryKeyring.Failure.unknownKey("2026-01")) { try retired.open(sealed, rowID: "row-1") }
    }

    @Test func badKeysAreRefusedWithAReason() {
        let good = RegistryKeyring.generateKeyMaterial()
        for keys in [[], [("k1", "c2hvcnQ=")], [("k1", "not base64!")], [("", good)], [("k1", good), ("k1", good)], [("k 1", good)]] {
            #expect(throws: RegistryKeyring.Failure.self) { try RegistryKeyring(keys: keys) }
        }
    }
}
