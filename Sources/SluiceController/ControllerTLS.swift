import Foundation
import NIOSSL
import SluiceCore
import SluiceTLS

extension ControllerSettings.TLSSettings {
    /// The server side of TLS 1.2+: the controller's certificate and key, and, with a CA,
    /// client certificates verified against it when presented (whether one is required is
    /// decided per route, so operators and enrolling hosts need none).
    public func serverConfiguration() throws(InvalidInput) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw InvalidInput("cannot read the TLS certificate \(certificate): \(error)")
        }
        guard !chain.isEmpty else { throw InvalidInput("the TLS certificate file \(certificate) holds no certificate") }
        try Self.checkPrivate(key)
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw InvalidInput("cannot read the TLS key \(key): \(error)")
        }
        // Said here in words: TLS itself would only fail later with `failedToLoadCertificate`.
        if let keyPEM = try? String(contentsOfFile: key, encoding: .utf8), let certificatePEM = try? String(contentsOfFile: certificate, encoding: .utf8),
            keyMatchesCertificate(keyPEM: keyPEM, certificatePEM: certificatePEM) == false
        {
            throw InvalidInput(
                "the TLS key \(key) does not match the certificate \(certificate): give the key the certificate was made with (sluiced tls init writes server-key.pem beside server.pem)"
            )
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let authority {
            let roots: [NIOSSLCertificate]
            do { roots = try NIOSSLCertificate.fromPEMFile(authority) } catch {
                throw InvalidInput("cannot read the CA certificate \(authority): \(error)")
            }
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = .optionalVerification
        }
        return configuration
    }

    /// The CA that signs agents' client certificates at enrollment, if its key was given.
    public func signingAuthority() throws(InvalidInput) -> CertificateAuthority? {
        guard let authority, let authorityKey else { return nil }
        try Self.checkPrivate(authorityKey)
        let certificatePEM: String
        let keyPEM: String
        do {
            certificatePEM = try String(contentsOfFile: authority, encoding: .utf8)
            keyPEM = try String(contentsOfFile: authorityKey, encoding: .utf8)
        } catch {
            throw InvalidInput("cannot read the CA files \(authority), \(authorityKey): \(error.localizedDescription)")
        }
        do { return try CertificateAuthority(certificatePEM: certificatePEM, privateKeyPEM: keyPEM) } catch {
            throw InvalidInput("\(error.message) (CA certificate \(authority), CA key \(authorityKey))")
        }
    }

    /// A private key readable by its group or other users is refused, as ssh does.
    static func checkPrivate(_ path: String) throws(InvalidInput) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw InvalidInput("cannot read the key file \(path)")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw InvalidInput("the key file \(path) is readable by other users (mode \(String(mode, radix: 8))): chmod 600 it")
        }
    }
}
