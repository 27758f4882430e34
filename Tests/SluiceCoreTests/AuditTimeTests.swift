import Foundation
import SluiceCore
import Testing

@Suite("Audit: times, zones and daylight saving")
struct AuditTimeTests {
    static let paris = TimeZone(identifier: "Europe/Paris")!
    static let utc = TimeZone(identifier: "UTC")!

    static func utcMs(_ text: String) -> Int64 { try! AuditTime.parseInstant(text, nowMs: 0, zone: utc) }

    @Test func summerAndWinterTimeInParis() {
        #expect(AuditTime.short(Self.utcMs("2024-07-24T06:20:00Z"), in: Self.paris) == "Jul. 24 08:20:00")
        #expect(AuditTime.short(Self.utcMs("2024-01-15T06:20:00.042Z"), in: Self.paris, milliseconds: true) == "Jan. 15 07:20:00.042")
        #expect(AuditTime.rfc3339(Self.utcMs("2024-07-24T06:20:00Z"), in: Self.paris) == "2024-07-24T08:20:00.000+02:00")
        #expect(AuditTime.rfc3339(Self.utcMs("2024-07-24T06:20:00.5Z")) == "2024-07-24T06:20:00.500Z")
    }

    @Test func theLastSundayOfMarchSkipsAnHourAndTheListingSaysSo() {
        // 2024-03-31: at 01:00 UTC, Paris goes from 02:00 CET to 03:00 CEST.
        let before = Self.utcMs("2024-03-31T00:59:59Z"), after = Self.utcMs("2024-03-31T01:00:00Z")
        #expect(AuditTime.civil(before, in: Self.paris).hour == 1)
        #expect(AuditTime.civil(after, in: Self.paris).hour == 3)
        let events = [before, after].enumerated().map { AuditEvent(seq: Int64($0.offset + 1), atMs: $0.element, actor: "controller", kind: "rollout.completed", rolloutID: 1) }
        #expect(
            AuditRendering(zone: Self.paris).timeline(events) == """
                # All times are Europe/Paris (UTC+1 then UTC+2, summer time)
                Mar. 31 01:59:59 +01:00  rollout 1 completed
                Mar. 31 03:00:00 +02:00  rollout 1 completed

                """)
    }

    @Test func theLastSundayOfOctoberRepeatsAnHourAndTheOffsetTellsThemApart() {
        // 2024-10-27: at 01:00 UTC, Paris goes from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
        let first = Self.utcMs("2024-10-27T00:30:00Z"), second = Self.utcMs("2024-10-27T01:30:00Z")
        #expect(AuditTime.short(first, in: Self.paris, offset: true) == "Oct. 27 02:30:00 +02:00")
        #expect(AuditTime.short(second, in: Self.paris, offset: true) == "Oct. 27 02:30:00 +01:00")
        let csv = AuditRendering(zone: Self.paris).csv([AuditEvent(seq: 1, atMs: first, actor: "a", kind: "k"), AuditEvent(seq: 2, atMs: second, actor: "a", kind: "k")])
        #expect(csv.contains("1,2024-10-27T02:30:00.000+02:00,a,k,"))
        #expect(csv.contains("2,2024-10-27T02:30:00.000+01:00,a,k,"))
        #expect(try! AuditTime.parseInstant("2024-10-27T02:30:00+02:00", nowMs: 0, zone: Self.utc) == first)
        #expect(try! AuditTime.parseInstant("2024-10-27T02:30:00+01:00", nowMs: 0, zone: Self.utc) == second)
    }

    @Test func sinceAndUntilTakeRFC3339DatesLocalTimesAndDurations() throws {
        let now = Self.utcMs("2024-07-24T12:00:00Z")
        #expect(try AuditTime.parseInstant("2024-07-24T08:20:00+02:00", nowMs: now, zone: Self.utc) == Self.utcMs("2024-07-24T06:20:00Z"))
        #expect(try AuditTime.parseInstant("2024-07-24t06:20:00.123z", nowMs: now, zone: Self.utc) == Self.utcMs("2024-07-24T06:20:00.123Z"))
        // Without an offset: a reading of the clock in --tz, summer or winter.
        #expect(try AuditTime.parseInstant("2024-07-24T08:20", nowMs: now, zone: Self.paris) == Self.utcMs("2024-07-24T06:20:00Z"))
        #expect(try AuditTime.parseInstant("2024-01-15 08:20:00", nowMs: now, zone: Self.paris) == Self.utcMs("2024-01-15T07:20:00Z"))
        #expect(try AuditTime.parseInstant("2024-03-31", nowMs: now, zone: Self.paris) == Self.utcMs("2024-03-30T23:00:00Z"))
        #expect(try AuditTime.parseInstant("2h", nowMs: now, zone: Self.utc) == now - 7_200_000)
        #expect(try AuditTime.parseInstant("7d", nowMs: now, zone: Self.utc) == now - 7 * 86_400_000)
        #expect(try AuditTime.parseInstant("1h30m", nowMs: now, zone: Self.utc) == now - 5_400_000)
        #expect(try AuditTime.parseInstant("now", nowMs: now, zone: Self.utc) == now)
        for bad in ["yesterday", "2024-13-01", "2024-07-24T25:00:00Z", "2024-07-24T08:20:00+2", "2h ago", ""] {
            #expect(throws: InvalidInput.self, "\(bad)") { try AuditTime.parseInstant(bad, nowMs: now, zone: Self.utc) }
        }
        #expect(throws: InvalidInput.self) { try AuditTime.zone(named: "Mars/Olympus_Mons") }
    }

    @Test func calendarArithmeticHoldsAcrossCenturiesAndBeforeTheEpoch() {
        for text in ["1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00Z", "2100-03-01T00:00:00Z", "1900-01-01T00:00:00Z"] {
            #expect(AuditTime.rfc3339(Self.utcMs(text)) == text.replacingOccurrences(of: ":00Z", with: ":00.000Z"))
        }
        #expect(Self.utcMs("1970-01-01T00:00:00Z") == 0)
        #expect(AuditTime.duration(2_430_000) == "40 min 30 s")
        #expect(AuditTime.duration(0) == "0" && AuditTime.duration(250) == "250 ms" && AuditTime.duration(7_500_000) == "2 h 5 min")
    }

    /// A duration back from now that milliseconds cannot hold is an error, not an overflow trap.
    @Test func aDurationTooLongForMillisecondsIsRefused() {
        #expect(throws: InvalidInput.self) { try AuditTime.parseInstant("20000000000w", nowMs: 0, zone: Self.utc) }
        #expect(throws: InvalidInput.self) { try AuditTime.parseInstant("9223372036854775807s", nowMs: 0, zone: Self.utc) }
    }
}
