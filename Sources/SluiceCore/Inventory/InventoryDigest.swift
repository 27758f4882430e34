import Crypto

/// The SHA-256 of an inventory report without its labels, as 64 lowercase hexadecimal
/// digits: the controller stores it (`hosts.inventory_digest`) to recognise an unchanged
/// report, and an agent whose inventory has not changed sends it instead of the report
/// (`PUT /v1/hosts/{hostID}/inventory/digest`).
///
/// The bytes hashed are a canonical stream of the report's fields in a fixed order: each
/// text as its UTF-8 length (4 bytes, big-endian) and bytes, an absent text as 0xFFFFFFFF,
/// each list as its count then its elements, each flag as one byte. Every field delimits
/// itself, so no two different reports give the same stream. Agent and controller must hash
/// the same bytes, and stored digests must keep matching: the stream never changes without
/// a new prefix (`sluice-inventory-v2`). A digest that does not match only costs a full
/// report: a controller refuses the confirmation and the agent sends the report. The JSON-based
/// digest of earlier controllers never matches (see `SluiceDatabase.recordReport`).
public enum InventoryDigest {
    /// The digest of `report`; its labels are left out.
    public static func hex(of report: InventoryReport) -> String {
        var stream = Stream()
        stream.bytes.reserveCapacity(64 + 96 * report.installed.count + 256 * report.candidates.count)
        stream.bytes.append(contentsOf: "sluice-inventory-v2".utf8)
        stream.text(report.agentVersion)
        stream.text(report.os.id)
        stream.text(report.os.versionID)
        stream.text(report.os.versionCodename)
        stream.text(report.os.prettyName)
        stream.count(report.installed.count)
        for p in report.installed {
            stream.text(p.name.rawValue)
            stream.text(p.architecture.rawValue)
            stream.text(p.version.description)
            stream.text(p.status)
        }
        stream.count(report.candidates.count)
        for c in report.candidates {
            stream.text(c.name.rawValue)
            stream.text(c.architecture.rawValue)
            stream.text(c.installedVersion?.description)
            stream.text(c.candidateVersion.description)
            stream.count(c.origins.count)
            for o in c.origins {
                stream.text(o.origin)
                stream.text(o.label)
                stream.text(o.archive)
                stream.text(o.codename)
                stream.text(o.component)
                stream.text(o.site)
            }
        }
        stream.flag(report.rebootRequired)
        stream.count(report.rebootRequiredPackages.count)
        for name in report.rebootRequiredPackages { stream.text(name) }
        stream.bytes.append(report.unattendedUpgrades.enabled.map { $0 ? 1 : 0 } ?? 2)
        stream.text(report.unattendedUpgrades.detail)
        return LowercaseHex.encode(SHA256.hash(data: stream.bytes))
    }

    /// Whether `text` has the form of a digest: 64 lowercase hexadecimal digits.
    public static func isWellFormed(_ text: String) -> Bool {
        LowercaseHex.isEncoding(text.utf8, count: 2 * SHA256.byteCount)
    }

    private struct Stream {
        var bytes: [UInt8] = []

        mutating func count(_ n: Int) {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: n).bigEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func text(_ value: String?) {
            guard let value else { return bytes.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF] as [UInt8]) }
            count(value.utf8.count)
            bytes.append(contentsOf: value.utf8)
        }

        mutating func flag(_ value: Bool) { bytes.append(value ? 1 : 0) }
    }
}
