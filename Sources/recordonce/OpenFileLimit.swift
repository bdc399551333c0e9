import Foundation
import Telemetry

/// Every SSE subscriber and long-poll holds a socket: `serve` raises its soft open-file limit
/// to the hard limit at start (Debian's soft default of 1,024 would refuse the 1,000th stream).
enum OpenFileLimit {
    static func raiseToHardLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let before = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            logger.debug("open-file limit raised", ["from": String(before), "to": String(limit.rlim_max)])
        } else {
            logger.warning("could not raise the open-file limit; concurrent streams are limited to about \(before)")
        }
    }
}
