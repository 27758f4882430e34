import SluiceCore
import Testing

@Suite("Reading a presented token")
struct CredentialTokenTests {
    @Test func aGeneratedTokenReadsBackAsItself() throws {
        for kind in [CredentialToken.Kind.operatorToken, .host, .enrollment] {
            let token = CredentialToken.generate(kind: kind)
            #expect(CredentialToken(parsing: token.text) == token)
        }
    }

    @Test func keyIDsTakeLowerCaseHexAndSecretsTheURLSafeBase64AlphabetOnly() throws {
        let token = CredentialToken.generate(kind: .host)
        let hex = Set("0123456789abcdef".utf8)
        let base64URL = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for byte in UInt8(1)...UInt8(127) {
            let character = String(UnicodeScalar(byte))
            let key = "sluice-host." + character + token.keyID.dropFirst() + "." + token.secret
            #expect((CredentialToken(parsing: key) != nil) == hex.contains(byte), "key id with byte \(byte)")
            let secret = "sluice-host." + token.keyID + "." + token.secret.dropLast() + character
            #expect((CredentialToken(parsing: secret) != nil) == base64URL.contains(byte), "secret with byte \(byte)")
        }
        // Lengths, the prefix and the kind are checked too.
        #expect(CredentialToken(parsing: "sluice-host." + token.keyID + "." + token.secret + "A") == nil)
        #expect(CredentialToken(parsing: "sluice-host." + token.keyID.dropLast() + "." + token.secret) == nil)
        #expect(CredentialToken(parsing: "sluice-root." + token.keyID + "." + token.secret) == nil)
        #expect(CredentialToken(parsing: "sluicehost." + token.keyID + "." + token.secret) == nil)
        #expect(CredentialToken(parsing: "sluice-host." + token.keyID + ".é" + token.secret.dropFirst(2)) == nil)
    }
}
