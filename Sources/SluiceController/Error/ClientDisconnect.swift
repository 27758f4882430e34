#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOSSL

/// Errors that say the client went away mid-request (it closed or reset the connection while
/// its body was being read), as opposed to a fault of the controller.
///
/// Such a request has nobody left to answer; it is worth a debug line, not an error line and
/// a 500 "internal error" (agents restarting, `curl` interrupted, a proxy timing out).
enum ClientDisconnect {
    static func caused(_ error: any Error) -> Bool {
        switch error {
        case HTTPParserError.invalidEOFState, HTTPParserError.closedConnection:
            return true
        case let error as IOError:
            return [ECONNRESET, EPIPE, ECONNABORTED].contains(error.errnoCode)
        case let error as ChannelError:
            return [.ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed].contains(error)
        case NIOSSLError.uncleanShutdown:
            return true
        default:
            return false
        }
    }
}
