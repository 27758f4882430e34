import Foundation
import SluiceCore
import Testing

@Suite("Audit: formats and wording")
struct AuditRenderingTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let at: Int64 = 1_721_802_030_000  // 2024-07-24T06:20:30Z

    static let awkward = AuditEvent(
        seq: 7, atMs: at, actor: "operator:o'brien, jr", kind: "rollout.paused", rolloutID: 3,
        details: #"{"from":"running","reason":"said \"wait\",\nthen left"}"#)

    @Test func csvQuotesWhatRFC4180Requires() {
        let csv = AuditRendering(zone: Self.utc).csv([Self.awkward])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0] == "seq,time,actor,kind,rollout,wave,host,region,group,package,details")
        // The actor has a comma: quoted. The details have quotes and an escaped newline: quoted, quotes doubled.
        #expect(lines[1] == #"7,2024-07-24T06:20:30.000Z,"operator:o'brien, jr",rollout.paused,3,,,,,,"{""from"":""running"",""reason"":""said \""wait\"",\nthen left""}""#)
        #expect(lines.count == 3 && lines[2].isEmpty, "CRLF after every record")
        #expect(AuditRendering.csvField("two\nlines") == "\"two\nlines\"")
        #expect(AuditRendering.csvField("cr\r\nlf") == "\"cr\r\nlf\"")
        #expect(AuditRendering.csvField("plain") == "plain")
        #expect(AuditRendering.csvField("") == "")
    }

    @Test func ndjsonIsOneValidObjectPerLineWithDetailsAsAnObject() throws {
        let line = AuditRendering.ndjsonLine(Self.awkward)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["seq"] as? Int == 7)
        #expect(object["at"] as? String == "2024-07-24T06:20:30.000Z")
        #expect(object["actor"] as? String == "operator:o'brien, jr")
        #expect((object["details"] as? [String: Any])?["reason"] as? String == "said \"wait\",\nthen left")
        #expect(object["host"] == nil, "absent references are left out")
        let broken = AuditEvent(seq: 1, atMs: 0, actor: "a\u{1}", kind: "k", details: "not json")
        let fallback = try #require(try JSONSerialization.jsonObject(with: Data(AuditRendering.ndjsonLine(broken).utf8)) as? [String: Any])
        #expect(fallback["details"] as? String == "not json" && fallback["actor"] as? String == "a\u{1}")
    }

    @Test func theTimelineAndTableSpeakInSentences() {
        let events = [
            AuditEvent(seq: 1, atMs: Self.at, actor: "operator:alice", kind: "wave.approved", rolloutID: 3, wave: "canary", details: #"{"from":"running"}"#),
            AuditEvent(
                seq: 2, atMs: Self.at + 250, actor: "agent:dns1", kind: "agent.finished", rolloutID: 3, wave: "canary", hostID: "dns1",
                groupKey: "dns@a", details: #"{"detail":"validation failed:\nbad option","outcome":"rolled-back-before-restart"}"#),
            AuditEvent(seq: 3, atMs: Self.at + 60_000, actor: "controller", kind: "host.silent", rolloutID: 3, hostID: "dns2", details: #"{"effect":"promotion blocked","silentForMs":"125000"}"#),
            AuditEvent(seq: 4, atMs: Self.at + 61_000, actor: "sluice:future", kind: "alert.sent", details: #"{"to":"pager"}"#),
        ]
        #expect(
            AuditRendering(zone: Self.utc).timeline(events) == """
                # All times are UTC
                Jul. 24 06:20:30.000  operator:alice approved wave canary of rollout 3
                Jul. 24 06:20:30.250  dns1 finished rollout 3: rolled back before restart: validation failed: bad option
                Jul. 24 06:21:30.000  dns2 silent for 2 min 5 s during rollout 3: promotion blocked
                Jul. 24 06:21:31.000  sluice:future alert.sent to=pager

                """)
        let table = AuditRendering(zone: Self.utc).table(events).split(separator: "\n")
        #expect(table[0].hasPrefix("SEQ  TIME "))
        #expect(table[2].contains("agent.finished") && table[2].contains("dns@a"))
    }

    @Test func queryParametersRoundTrip() throws {
        let query = AuditQuery(
            sinceMs: 1, untilMs: 2, rolloutID: 3, hostID: "h", region: "r", group: "g@r", package: "bind9=1:2+b1", actor: "operator:*",
            kind: "agent.*", afterSeq: 4, throughSeq: 5, limit: 6, take: .last)
        let parameters = Dictionary(uniqueKeysWithValues: query.parameters.map { ($0.name, $0.value) })
        #expect(try AuditQuery(parameters: parameters) == query)
        #expect(throws: InvalidInput.self) { try AuditQuery(parameters: ["limit": "many"]) }
        #expect(throws: InvalidInput.self) { try AuditQuery(parameters: ["take": "middle"]) }
        #expect(AuditQuery.packageColumn("bind9=1 libssl3=3", contains: "libssl3"))
        #expect(!AuditQuery.packageColumn("bind9-libs=1", contains: "bind9"))
    }

    @Test func detailsAreReadAsTextWhateverTheirJSON() {
        let d = AuditDetails(#"{"a":"x\"y\\z\n\u00e9\ud83d\ude00","n":-12.50,"t":true,"z":null,"list":["p","q"],"o":{"k":1,"b":[]}, "e" : "" }"#)
        #expect(d["a"] == "x\"y\\z\né😀")
        #expect(d["n"] == "-12.50" && d["t"] == "true" && d["z"] == "null" && d["e"] == "")
        #expect(d["list"] == "p, q" && d["o"] == "{b: , k: 1}")
        for broken in ["", "[]", "{", #"{"a":}"#, #"{"a":"b"} x"#, #"{"a":"\ud83d\u0041"}"#, "not json"] {
            #expect(AuditDetails(broken).fields.isEmpty, "\(broken)")
        }
    }
}
