import CMicroHTTPD
import Foundation
import Telemetry

/// An HTTP/1.1 server on libmicrohttpd: a pool of threads, each running an epoll loop.
///
/// Handlers run on the pool's threads, so a slow handler delays the other connections of its
/// thread; long waits belong in deferred responses or streams, which hold no thread.
/// Call `stop()` before dropping the server.
public final class HTTPServer: @unchecked Sendable {
    /// The default size of the thread pool: two per core, at least four.
    public static var defaultThreads: Int { max(4, ProcessInfo.processInfo.activeProcessorCount * 2) }

    public let host: String
    /// The port asked for; 0 means any free port (read `boundPort` after `start()`).
    public let port: Int
    public let threads: Int
    /// Seconds an idle keep-alive connection stays open (suspended connections never time out).
    public let idleTimeoutSeconds: Int
    /// The most connections open at once, across all threads.
    public let maxConnections: Int
    /// Certificate and key files when the server speaks HTTPS; nil for plain HTTP.
    public let tls: TLSFiles?

    let router: Router
    let logger: Logger
    let metrics: HTTPMetrics?
    let shutdown = ShutdownRegistry()
    /// The routes, fixed at `start()`.
    private(set) var routes = RouteTable(routes: [], defaultBodyLimit: Router.standardBodyLimit)

    /// Serializes `start()` and `stop()` against each other.
    private let lifecycle = NSLock()
    /// Guards the fields below, read by other threads while running.
    private let lock = NSLock()
    private var daemon: OpaquePointer?
    private var logTarget: UnsafeMutablePointer<ro_mhd_log_target>?
    /// Guards `startupMessages`, which MHD's threads may touch while `start()` holds `lock`.
    private let messagesLock = NSLock()
    private var startupMessages: [String]? = nil
    private var cachedPort = 0
    private var idleWakeups = 0

    public init(host: String = "127.0.0.1", port: Int, router: Router, threads: Int = HTTPServer.defaultThreads,
                idleTimeoutSeconds: Int = 60, maxConnections: Int = 10_000, tls: TLSFiles? = nil,
                logger: Logger, metrics: MetricsRegistry? = nil) {
        precondition(threads >= 1, "the server needs at least one thread")
        self.host = host
        self.port = port
        self.router = router
        self.threads = threads
        self.idleTimeoutSeconds = max(0, idleTimeoutSeconds)
        self.maxConnections = max(1, maxConnections)
        self.tls = tls
        self.logger = logger
        self.metrics = metrics.map(HTTPMetrics.init(registry:))
    }

    /// The port the server listens on (the chosen one when started with port 0); 0 when stopped.
    public var boundPort: Int {
        lock.lock()
        defer { lock.unlock() }
        return cachedPort
    }

    /// Binds and starts serving. Throws `HTTPServerError` naming host:port and the cause.
    public func start() throws {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        lock.lock()
        defer { lock.unlock() }
        guard daemon == nil else {
            throw HTTPServerError(kind: .alreadyRunning, host: host, port: port, reason: "the server is already running")
        }
        let address = try ListenAddress.resolve(host: host, port: port)
        // Certificates are checked before binding, so a bad file is reported as such.
        let credentials = try tls.map { files throws(TLSCertificateError) in try TLSCredentials(files: files) }
        // A fixed port is known now: no handshake can come before its credentials.
        if let credentials, port != 0 { TLSCredentialRegistry.shared.install(credentials, port: port) }
        routes = router.table()
        shutdown.reopen()

        var flags = MHD_USE_EPOLL_INTERNAL_THREAD.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
            | MHD_USE_ERROR_LOG.rawValue
        if address.isIPv6 {
            flags |= address.isIPv6Wildcard ? MHD_USE_DUAL_STACK.rawValue : MHD_USE_IPv6.rawValue
        }
        if tls != nil { flags |= MHD_USE_TLS.rawValue }
        let target = UnsafeMutablePointer<ro_mhd_log_target>.allocate(capacity: 1)
        let unmanagedSelf = Unmanaged.passRetained(self)
        target.initialize(to: ro_mhd_log_target(
            sink: { context, message in
                guard let context, let message else { return }
                Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
                    .libraryMessage(String(cString: message))
            },
            context: unmanagedSelf.toOpaque()))

        messagesLock.withLock { startupMessages = [] }
        var storage = address.storage
        let started = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                ro_mhd_start_daemon(
                    UInt32(flags), socketAddress,
                    { cls, connection, url, method, version, uploadData, uploadSize, requestContext in
                        guard let cls, let connection, let url, let method, let uploadSize, let requestContext
                        else { return .NO }
                        let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
                        return server.access(connection: connection, url: url, method: method, version: version,
                                             uploadData: uploadData, uploadSize: uploadSize,
                                             requestContext: requestContext)
                    },
                    unmanagedSelf.toOpaque(),
                    { cls, _, requestContext, _ in
                        guard let cls, let requestContext else { return }
                        let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
                        server.requestCompleted(requestContext)
                    },
                    unmanagedSelf.toOpaque(),
                    UInt32(threads), UInt32(idleTimeoutSeconds), UInt32(maxConnections), target,
                    credentials == nil ? nil : tlsCertificateForHandshake)
            }
        }
        let messages = messagesLock.withLock {
            defer { startupMessages = nil }
            return startupMessages ?? []
        }
        guard let started else {
            target.deinitialize(count: 1)
            target.deallocate()
            unmanagedSelf.release()
            if credentials != nil, port != 0 { TLSCredentialRegistry.shared.remove(port: port) }
            let reason = messages.isEmpty ? "libmicrohttpd could not start" : messages.joined(separator: "; ")
            throw HTTPServerError(kind: .startFailed, host: host, port: port, reason: reason)
        }
        daemon = started
        logTarget = target
        cachedPort = Int(ro_mhd_bound_port(started))
        if let credentials, port == 0 { TLSCredentialRegistry.shared.install(credentials, port: cachedPort) }
        logger.info("HTTP server listening", ["host": host, "port": String(cachedPort), "threads": String(threads),
                                              "scheme": tls == nil ? "http" : "https"])
    }

    /// Reads the certificate and key files again and presents them from the next handshake on;
    /// connections already open keep theirs. When the new files are missing, unreadable or do
    /// not match, throws and the server keeps presenting the previous ones.
    public func reloadCertificates() throws {
        guard let tls else { return }
        let credentials = try TLSCredentials(files: tls)
        let boundPort = lock.withLock { daemon == nil ? 0 : cachedPort }
        guard boundPort != 0 else { return }
        TLSCredentialRegistry.shared.install(credentials, port: boundPort)
        logger.info("TLS certificate reloaded", ["file": tls.certificateFile])
    }

    /// Stops gracefully: stops accepting, finishes open streams and answers pending deferred
    /// responses with 503, waits up to `gracePeriod` seconds for them to be sent, then closes
    /// every connection. Safe to call more than once; never call it from a handler (it waits for
    /// the server's threads to end).
    public func stop(gracePeriod: Double = 2) {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        lock.lock()
        guard let daemon else {
            lock.unlock()
            return
        }
        self.daemon = nil
        let boundPortWhileStopping = cachedPort
        lock.unlock()

        let listenSocket = MHD_quiesce_daemon(daemon)
        let stillOpen = shutdown.shutDownAll(waitingUntil: Date(timeIntervalSinceNow: gracePeriod))
        if stillOpen > 0 {
            logger.warning("HTTP server stopping with responses still being sent", ["open": String(stillOpen)])
        }
        // Streams writing to their sockets themselves stop before MHD closes those sockets.
        shutdown.abandonAll()
        MHD_stop_daemon(daemon)
        if listenSocket >= 0 { close(listenSocket) }
        if tls != nil { TLSCredentialRegistry.shared.remove(port: boundPortWhileStopping) }

        lock.lock()
        let target = logTarget
        logTarget = nil
        let stoppedPort = cachedPort
        cachedPort = 0
        lock.unlock()
        target?.deinitialize(count: 1)
        target?.deallocate()
        logger.info("HTTP server stopped", ["port": String(stoppedPort)])
        Unmanaged.passUnretained(self).release()
    }

    /// How often a deferred request was woken with no response ready (should stay near zero:
    /// a suspended connection is not polled). For tests and diagnostics.
    var idleWakeupCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return idleWakeups
    }

    /// Open streams and pending deferred responses (tests and diagnostics).
    var shutdownParticipantCount: Int { shutdown.count }

    func noteIdleWakeup() {
        lock.lock()
        idleWakeups += 1
        lock.unlock()
    }

    /// A message from libmicrohttpd: kept for the start error while starting, logged otherwise.
    private func libraryMessage(_ message: String) {
        // Called during start() while `lock` is held: use only `messagesLock` here.
        let kept: Bool = messagesLock.withLock {
            guard startupMessages != nil else { return false }
            startupMessages?.append(message)
            return true
        }
        guard !kept else { return }
        let redacted = Self.redactingPaths(message)
        // Clients going away mid-response are routine (SSE, long-poll); the rest deserves a look.
        let routine = message.hasPrefix("Failed to send") || message.contains("closing connection")
            || message.contains("Connection reset")
        logger.log(routine ? .debug : .warning, "libmicrohttpd: \(redacted)")
    }

    /// `message` with every quoted request path (MHD writes them as `path') replaced: paths may
    /// carry identifiers such as ID numbers, which must not reach the log.
    static func redactingPaths(_ message: String) -> String {
        var result = ""
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "`") {
            result += rest[...open]
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "'") else {
                rest = rest[afterOpen...]
                break
            }
            result += "<path>"
            rest = rest[close...]
        }
        return result + rest
    }
}
