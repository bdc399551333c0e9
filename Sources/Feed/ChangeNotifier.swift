import Foundation
import Store
import Telemetry

/// Knows the change log's head and tells waiters when it moves, woken by PostgreSQL's
/// LISTEN/NOTIFY on `ChangeLog.channel` (never by polling the table).
///
/// One dedicated connection per hub process listens; long-polls, SSE streams and the webhook
/// dispatcher register callbacks here instead of holding connections or threads. After a lost
/// connection it reconnects and re-reads the head, so a notification missed meanwhile only
/// delays waiters until the reconnect.
public final class ChangeNotifier: @unchecked Sendable {
    public typealias Callback = @Sendable (Int64) -> Void

    private let url: String
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

    public init(url: String, logger: Logger) {
        self.url = url
        self.logger = logger
    }

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
                try connection.listen(ChangeLog.channel)
                advance(to: try ChangeLog.head(connection))
                if !signalled { signalled = true; ready.signal() }
                while isRunning {
                    let notes = try connection.waitForNotifications(timeout: 1)
                    var highest: Int64 = 0
                    for note in notes { highest = max(highest, Int64(note.payload) ?? 0) }
                    if highest > 0 { advance(to: highest) }
                    if !connection.isOpen { break }
                }
            } catch {
                if !signalled { signalled = true; ready.signal() }
                logger.warning("change notifier lost its connection; reconnecting", ["error": String(describing: error)])
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
