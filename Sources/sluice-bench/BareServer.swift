import ArgumentParser
import Foundation
import Hummingbird
import NIOCore
import SluiceAPI

/// The baseline of the check-ins benchmark: Hummingbird with nothing behind it. It reads each
/// request's body and answers the bytes sluiced answers a heartbeat (same length, same
/// content type, same `Server` header), on the agent paths.
struct BareServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-server", abstract: "A bare Hummingbird endpoint for the check-ins benchmark (started by it).", shouldDisplay: false)

    @Option(help: "Write the bound port here once listening.") var portFile: String

    func run() async throws {
        let answer = ByteBuffer(string: #"{"changed":false,"nextReportSeconds":10}"#)
        let router = Router()
        for path in ["/v1/hosts/:hostID/health", "/v1/hosts/:hostID/inventory", "/v1/hosts/:hostID/inventory/digest"] {
            router.put(RouterPath(path)) { request, context -> Response in
                _ = try await request.body.collect(upTo: 16 << 20)
                var headers = HTTPFields()
                headers[.contentType] = "application/json; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: answer))
            }
        }
        let portFile = self.portFile
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "sluiced/\(SluiceVersion.current)"),
            onServerRunning: { channel in try? "\(channel.localAddress?.port ?? 0)\n".write(toFile: portFile, atomically: true, encoding: .utf8) })
        try await app.runService()
    }
}
