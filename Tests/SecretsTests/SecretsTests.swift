import Testing
@testable import Secrets

@Suite struct SecretsTests {
    @Test func sha256MatchesKnownVectors() {
        #expect(Secrets.hex(Secrets.sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Secrets.hex(Secrets.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hmacMatchesRFC4231TestCase2() {
        let mac = Secrets.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Secrets.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func tokensAreRandomAndPrefixed() {
        let a = Secrets.newToken(prefix: "ro_admin")
        let b = Secrets.newToken(prefix: "ro_admin")
        #expect(a != b)
        #expect(a.hasPrefix("ro_admin_"))
        #expect(a.count == "ro_admin_".count + 43)
        #expect(!a.contains("+") && !a.contains("/") && !a.contains("="))
    }

    @Test func constantTimeEqualComparesContentAndLength() {
        #expect(Secrets.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Secrets.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Secrets.constantTimeEqual([1, 2, 3], [1, 2]))
    }
}
