import CSystem
import Foundation
import Telemetry

/// glibc's allocator settings for the long-running `serve` process.
///
/// A subscriber catching up gets pages of up to 10,000 events: a page's index, its projected
/// events (about 1 kB each) and its response body (about 6 MB) are allocated, sent and freed
/// again, page after page. By default glibc serves the body from a fresh mmap and returns the
/// freed top of each heap to the kernel, so every page faulted its memory in again and the
/// kernel zeroed it: measured with `recordonce-bench feed projection` (one thread, nothing
/// kept between rounds), indexing and projecting an event took 3.8 µs with the defaults and
/// 2.7 µs when freed memory stayed in the heap, and catch-up by pull pages went from about
/// 175,000 to 190,000 events/s (docs/benchmarks.md). Here blocks up to 32 MB come from the heap
/// and up to 128 MB free at a heap's top is kept for the next page; memory in use is unchanged,
/// what the process keeps mapped is at most its peak. An operator's own `MALLOC_*` environment
/// settings win (glibc's tunables, see mallopt(3)).
enum AllocatorSettings {
    static func applyForServer(logger: Logger) {
        let environment = ProcessInfo.processInfo.environment
        guard !environment.keys.contains(where: { $0.hasPrefix("MALLOC_") }), environment["GLIBC_TUNABLES"] == nil else {
            logger.debug("allocator settings left to the environment")
            return
        }
        let settings: [(Int32, Int32)] = [(M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 128 << 20), (M_TOP_PAD, 16 << 20)]
        for (parameter, value) in settings where mallopt(parameter, value) != 1 {
            logger.warning("could not set an allocator parameter", ["parameter": String(parameter), "value": String(value)])
        }
    }
}
