import Foundation
import Store
import Telemetry

/// Knows the change log's head and tells waiters when it moves.
///
/// On the primary it is woken by PostgreSQL's LISTEN/NOTIFY on `ChangeLog.channel`. On a
/// streaming replica (a feed node) notifications do not exist (they are not written to the WAL),
/// so it polls the head row instead (`Wakeup.pollHead`): `change_log_head` is updated by the same
/// transaction that writes the events it counts, and a hot standby makes transactions visible in
/// the primary's commit order, so a head of H read on the replica means every position up to H is
/// readable there. Readers page `position > P` as on the primary and the feed stays gap-free; the
/// delay is the replica's apply lag plus at most one poll interval.
///
/// One dedicated connection per hub process listens or polls; long-polls, SSE streams and the
/// webhook dispatcher register callbacks here instead of holding connections or threads. After a
/// lost connection it reconnects and re-reads the head, so a change missed meanwhile only delays
/// waiters until the reconnect.
public final class ChangeNotifier: @unchecked Sendable {
    public typealias Callback = @Sendable (Int64) -> Void

    /// How the notifier learns that the head moved.
    public enum Wakeup: Sendable, Equatable {
        /// LISTEN/NOTIFY on the primary.
        case listen
        /// Reading `change_log_head` every `interval` seconds (a streaming replica).
        case pollHead(interval: Double)
    }

    private let url: String
    private let wakeup: Wakeup
    /// Whether the database answered on the last attempt (a feed node's readiness).
    private var connected = false
    private let logger: Logger
    private let lock = NSLock()
    private var currentHead: Int64 = 0
    private var waiters: [Int: (after: Int64, callback: Callback)] = [:]
    private var observers: [Int: Callback] = [:]
    private var nextToken = 0
    private var running = false
    private var thread: Thread?
    private let ready = DispatchSemaphore(value: 0)
    private let callbacks = DispatchQueue(label: "recordonce.feed.notify", attributes: .concurrent)

    public init(url: String, wakeup: Wakeup = .listen, logger: Logger) {
        self.url = url
        self.wakeup = wakeup
        self.logger = logger
    }

    /// False while the notifier's database connection is lost (it keeps reconnecting).
    public var isConnected: Bool { lock.withLock { connected } }

    /// The last position known to be committed.
    public var head: Int64 { lock.withLock { currentHead } }

    /// Starts listening; returns once the first head is known (or after 5 s if the database is unreachable).
    public func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in run() }
        thread.name = "feed-notifier"
        self.thread = thread
        thread.start()
        _ = ready.wait(timeout: .now() + 5)
    }

    /// Stops listening (the thread ends within a second).
    public func stop() {
        lock.withLock {
            running = false
            waiters.removeAll()
            observers.removeAll()
        }
    }

    /// Calls `callback` once with the head as soon as it is past `after` (right away if it already is).
    /// Returns a token for `cancel`.
    @discardableResult
    public func whenPast(_ after: Int64, _ callback: @escaping Callback) -> Int {
        lock.lock()
        if currentHead > after {
            let head = currentHead
            lock.unlock()
            callbacks.async { callback(head) }
            return -1
        }
        nextToken += 1
        let token = nextToken
        waiters[token] = (after, callback)
        lock.unlock()
        return token
    }

    /// Forgets a waiter registered with `whenPast` (no-op when it already fired).
    public func cancel(_ token: Int) {
        lock.withLock { _ = waiters.removeValue(forKey: token) }
    }

    /// Calls `callback` with the new head every time it moves, until `removeObserver`.
    @discardableResult
    public func observe(_ callback: @escaping Callback) -> Int {
        lock.withLock {
            nextToken += 1
            observers[nextToken] = callback
            return nextToken
        }
    }

    public func removeObserver(_ token: Int) {
        lock.withLock { _ = observers.removeValue(forKey: token) }
    }

    /// Records a head seen elsewhere (a writer in this process) and wakes waiters early.
    public func advance(to position: Int64) {
        var fire: [Callback] = []
        var all: [Callback] = []
        lock.lock()
        if position > currentHead {
            currentHead = position
            for (token, waiter) in waiters where position > waiter.after {
                fire.append(waiter.callback)
                waiters.removeValue(forKey: token)
            }
            all = Array(observers.values)
        }
        lock.unlock()
        for callback in fire + all { callbacks.async { callback(position) } }
    }

    private var isRunning: Bool { lock.withLock { running } }

    private func run() {
        var signalled = false
        while isRunning {
            do {
                let connection = try PostgresConnection(url: url)
                if wakeup == .listen { try connection.listen(ChangeLog.channel) }
                advance(to: try ChangeLog.head(connection))
                lock.withLock { connected = true }
                if !signalled { signalled = true; ready.signal() }
                while isRunning {
                    switch wakeup {
                    case .listen:
                        let notes = try connection.waitForNotifications(timeout: 1)
                        var highest: Int64 = 0
                        for note in notes { highest = max(highest, Int64(note.payload) ?? 0) }
                        if highest > 0 { advance(to: highest) }
                    case .pollHead(let interval):
                        Thread.sleep(forTimeInterval: interval)
                        advance(to: try ChangeLog.head(connection))
                    }
                    if !connection.isOpen { break }
                }
            } catch {
                lock.withLock { connected = false }
                if !signalled { signalled = true; ready.signal() }
                logger.warning("change notifier lost its connection; reconnecting", ["error": String(describing: error)])
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
