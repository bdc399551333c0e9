import Foundation

/// A fault a demo department system can be told to show, for the conformance suite and for
/// trying out the hub's failure handling by hand.
public enum DemoFault: Sendable, Equatable {
    /// Answer 503 Service Unavailable (with Retry-After when given).
    case unavailable(retryAfter: Int?)
    /// Answer 429 Too Many Requests with Retry-After.
    case tooManyRequests(retryAfter: Int)
    /// Answer 401 as if the credentials were wrong.
    case unauthorized
    /// Cut the answer's body in half (JSON that ends mid-value).
    case truncatedBody
    /// Answer XML that is not well formed (SOAP), or a CSV file that is not CSV (civil affairs).
    case notWellFormed
    /// Answer a SOAP fault with this code (`soap:Server`, `soap:Client`) and string.
    case soapFault(code: String, message: String)
    /// Write the next dropped file in UTF-8 although GB18030 is declared (civil affairs), or
    /// answer JSON encoded in GB18030 (police).
    case wrongEncoding
    /// Before answering a page after the first, change this many records that earlier pages
    /// already returned (they move to the end of the change order: the page shifts).
    case changeUnderCursor(Int)
}

/// A queue of faults for one department system: each request takes the next one, if any.
public final class DemoFaults: @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [DemoFault] = []

    public init() {}

    /// Shows `fault` on the next `times` requests (after those already queued).
    public func inject(_ fault: DemoFault, times: Int = 1) {
        lock.withLock { queue += Array(repeating: fault, count: max(0, times)) }
    }

    /// Drops every queued fault.
    public func clear() { lock.withLock { queue.removeAll() } }

    /// Faults still queued.
    public var pending: Int { lock.withLock { queue.count } }

    /// The fault for this request, if one is queued and `accepts` it (others stay queued).
    func take(where accepts: (DemoFault) -> Bool = { _ in true }) -> DemoFault? {
        lock.withLock {
            guard let i = queue.firstIndex(where: accepts) else { return nil }
            return queue.remove(at: i)
        }
    }
}
