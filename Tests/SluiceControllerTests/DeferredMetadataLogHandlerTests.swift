import Logging
import SluiceController
import Synchronization
import Testing

@Suite("sluiced's log lines")
struct DeferredMetadataLogHandlerTests {
    final class Lines: TextOutputStream, Sendable {
        let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    struct Stream: TextOutputStream, Sendable {
        let lines: Lines
        mutating func write(_ string: String) { lines.write(string) }
    }

    /// The line without its timestamp (the two handlers may straddle a second).
    static func lines(_ lines: Lines) -> [String] {
        lines.text.withLock { $0 }.split(separator: "\n").map { String($0.drop(while: { $0 != " " })) }
    }

    @Test func areStreamLogHandlersLinesWithMetadataSetOnceOrManyTimes() {
        let deferred = Lines(), stream = Lines()
        var a = Logger(label: "sluiced") { _ in DeferredMetadataLogHandler(StreamLogHandler(label: "sluiced", stream: Stream(lines: deferred))) }
        var b = Logger(label: "sluiced") { _ in StreamLogHandler(label: "sluiced", stream: Stream(lines: stream)) }
        func same(_ body: (inout Logger) -> Void) {
            body(&a)
            body(&b)
        }
        same { $0.info("no metadata") }
        same { $0[metadataKey: "hb.request.id"] = "42" }
        same { $0[metadataKey: "host"] = "ns1.fra" }
        same { $0[metadataKey: "hb.request.id"] = "43" }
        same { $0.notice("with two items", metadata: ["explicit": "yes"]) }
        same { $0.debug("below the level: not written") }
        same { $0.logLevel = .debug }
        same { $0.debug("now written") }
        same { $0[metadataKey: "host"] = nil }
        same { $0.error("one item left") }
        #expect(Self.lines(deferred) == Self.lines(stream))
        #expect(Self.lines(deferred).count == 4)
        #expect(Self.lines(deferred)[1].contains("explicit=yes") && Self.lines(deferred)[1].contains("hb.request.id=43"))
        #expect(a[metadataKey: "hb.request.id"] == "43" && a.logLevel == .debug)
    }
}
