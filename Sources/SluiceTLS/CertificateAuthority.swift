import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SwiftASN1
import X509

/// A certificate and its private key, both PEM.
public struct IssuedCertificate: Sendable, Equatable {
    public let certificatePEM: String
    public let privateKeyPEM: String
}

/// Sluice's private certificate authority: it signs the controller's server certificate
/// (`sluiced tls init`) and, for mutual TLS, each agent's client certificate at enrollment.
/// Keys are P-256; the CA cannot sign further CAs (path length 0).
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    let key: Certificate.PrivateKey

    /// A new CA valid from `now` for `days`.
    public static func create(commonName: String = "Sluice private CA", now: Date, days: Int = 3650) throws -> (CertificateAuthority, IssuedCertificate) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Sluice")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        let authority = CertificateAuthority(certificate: certificate, key: .init(key))
        return (authority, IssuedCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation))
    }

    /// Loads a CA from its certificate and key (PEM).
    public init(certificatePEM: String, privateKeyPEM: String) throws(InvalidInput) {
        do {
            self.certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw InvalidInput("the CA certificate is not a PEM certificate: \(error)")
        }
        do {
            self.key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM)
        } catch {
            throw InvalidInput("the CA key is not a PEM private key: \(error)")
        }
        guard key.publicKey == certificate.publicKey else { throw InvalidInput("the CA key does not belong to the CA certificate") }
    }

    init(certificate: Certificate, key: Certificate.PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// The controller's server certificate for `names` (DNS names or IP addresses).
    public func issueServerCertificate(names: [String], now: Date, days: Int = 825) throws -> IssuedCertificate {
        guard let first = names.first else { throw InvalidInput("a server certificate needs at least one name (--name)") }
        let key = P256.Signing.PrivateKey()
        let alternativeNames = try names.map { try Self.generalName($0) }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
            issuer: self.certificate.subject, subject: try DistinguishedName { CommonName(first) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: self.key)
        return IssuedCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// A client certificate for `host`, from the host's certificate signing request. The
    /// request's own subject is ignored: the certificate names the enrolled host id and
    /// nothing else, so a host cannot ask for another host's identity.
    public func issueClientCertificate(forRequestPEM requestPEM: String, host: HostID, now: Date, days: Int = 825) throws(InvalidInput) -> String {
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemEncoded: requestPEM)
        } catch {
            throw InvalidInput("client_certificate_request is not a PEM certificate signing request")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw InvalidInput("client_certificate_request is not signed by its own key")
        }
        do {
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: request.publicKey,
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
                issuer: self.certificate.subject, subject: try DistinguishedName { CommonName(host.rawValue) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.clientAuth])
                    SubjectAlternativeNames([.dnsName(host.rawValue)])
                },
                issuerPrivateKey: self.key)
            return try certificate.serializeAsPEM().pemString
        } catch {
            throw InvalidInput("cannot issue a client certificate for \(host): \(error)")
        }
    }

    static func generalName(_ name: String) throws(InvalidInput) -> GeneralName {
        if let bytes = IPAddressBytes.parse(name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))) }
        guard HostName.isValid(name) else { throw InvalidInput("invalid certificate name \(quoted(name)): expected a DNS name or an IP address") }
        return .dnsName(name.lowercased())
    }
}

/// A new key and certificate signing request for an agent, made on the agent so that its
/// private key never leaves the host.
public struct ClientCertificateRequest: Sendable {
    public let requestPEM: String
    public let privateKeyPEM: String

    public init(host: HostID) throws {
        let key = P256.Signing.PrivateKey()
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(host.rawValue) }, privateKey: .init(key),
            attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        self.requestPEM = try request.serializeAsPEM().pemString
        self.privateKeyPEM = key.pemRepresentation
    }
}

/// The SHA-256 fingerprint (lowercase hex) of a PEM certificate's DER bytes, as
/// `openssl x509 -fingerprint -sha256` shows it (without colons).
public func fingerprintSHA256(ofCertificatePEM pem: String) -> String? {
    guard let certificate = try? Certificate(pemEncoded: pem) else { return nil }
    var serializer = DER.Serializer()
    guard (try? serializer.serialize(certificate)) != nil else { return nil }
    return SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
}

/// Whether `keyPEM` holds the private key of the first certificate in `certificatePEM` (a
/// server certificate file may carry its chain after it): true or false, or nil when this
/// check cannot read one of them (a key type it does not know), and TLS has the last word.
public func keyMatchesCertificate(keyPEM: String, certificatePEM: String) -> Bool? {
    guard let documents = try? PEMDocument.parseMultiple(pemString: keyPEM),
        let keyDocument = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }),
        let key = try? Certificate.PrivateKey(pemDocument: keyDocument),
        let certificates = try? PEMDocument.parseMultiple(pemString: certificatePEM),
        let first = certificates.first(where: { $0.discriminator == "CERTIFICATE" }),
        let certificate = try? Certificate(pemDocument: first)
    else { return nil }
    return key.publicKey == certificate.publicKey
}

/// The common name of a certificate's subject, if it has one.
public func commonName(ofCertificateDER der: [UInt8]) -> String? {
    guard let certificate = try? Certificate(derEncoded: der) else { return nil }
    for rdn in certificate.subject {
        for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
            return String(describing: attribute.value)
        }
    }
    return nil
}

enum HostName {
    /// A DNS name: letters, digits, hyphens and dots, labels of 1 to 63, 253 in all.
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "*" }
        }
    }
}

enum IPAddressBytes {
    /// The 4 or 16 bytes of an IPv4 or IPv6 address in text, or nil.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
