import CMicroHTTPD
import Foundation

/// The promise of a deferred response (long-poll): complete it once, from any thread.
///
/// Until it is completed the connection is suspended and holds no server thread. If the server
/// stops first, it answers 503 itself and runs the `onCancel` handlers.
public final class ResponseCompletion: @unchecked Sendable {
    private enum State {
        case waiting
        case completed(Response)
        case delivered
        case abandoned
    }

    private let lock = NSLock()
    private var state = State.waiting
    private var connection: OpaquePointer?
    private var suspended = false
    private var cancelHandlers: [@Sendable () -> Void] = []

    init() {}

    /// Answers the request with `response`. Returns false if it was already completed or the
    /// request is gone (server stopped), in which case `response` is dropped.
    @discardableResult
    public func complete(_ response: Response) -> Bool {
        settle(with: response, cancelling: false)
    }

    /// Stores the response and resumes the connection; with `cancelling`, also runs the cancel
    /// handlers, taken under the same lock so that a racing `abandon()` cannot drop them.
    private func settle(with response: Response, cancelling: Bool) -> Bool {
        lock.lock()
        guard case .waiting = state else {
            lock.unlock()
            return false
        }
        state = .completed(response)
        if suspended, let connection {
            suspended = false
            MHD_resume_connection(connection)
        }
        let handlers = cancelling ? cancelHandlers : []
        if cancelling { cancelHandlers = [] }
        lock.unlock()
        for handler in handlers { handler() }
        return true
    }

    /// Answers with `error`: its own response for an `HTTPError`, otherwise a bland 500.
    @discardableResult
    public func fail(_ error: any Error) -> Bool {
        complete((error as? HTTPError ?? .internalError).response)
    }

    /// True until the response is given or the request is gone.
    public var isPending: Bool {
        lock.lock()
        defer { lock.unlock() }
        if case .waiting = state { return true }
        return false
    }

    /// Calls `handler` if the request ends without this completion being completed (the server
    /// stopped); lets a long-poll waiter list forget it. Runs right away if that already happened.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        lock.lock()
        if case .abandoned = state {
            lock.unlock()
            handler()
            return
        }
        cancelHandlers.append(handler)
        lock.unlock()
    }

    // MARK: - Server side

    /// Takes the response if it is already there; otherwise suspends `connection` until
    /// `complete` resumes it. Called from the access handler on the connection's thread.
    func responseOrSuspend(_ connection: OpaquePointer) -> Response? {
        lock.lock()
        defer { lock.unlock() }
        switch state {
        case .completed(let response):
            state = .delivered
            return response
        case .waiting:
            self.connection = connection
            suspended = true
            MHD_suspend_connection(connection)
            return nil
        case .delivered, .abandoned:
            return nil
        }
    }

    /// The request is over (response sent or connection closed): nothing may resume it now.
    func abandon() {
        lock.lock()
        connection = nil
        suspended = false
        var handlers: [@Sendable () -> Void] = []
        if case .waiting = state {
            state = .abandoned
            handlers = cancelHandlers
        }
        cancelHandlers = []
        lock.unlock()
        for handler in handlers { handler() }
    }
}

extension ResponseCompletion: ShutdownParticipant {
    func shutDown() {
        _ = settle(with: HTTPError.serviceUnavailable("the server is shutting down").response, cancelling: true)
    }
}
