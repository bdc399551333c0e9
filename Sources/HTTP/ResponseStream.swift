import CMicroHTTPD
import Foundation
import Glibc

/// A response body written over time by a producer on any thread (Server-Sent Events, exports).
///
/// The server sends what was written as soon as the client can take it. When nothing is waiting,
/// the connection is suspended (it holds no thread and costs no polling) until the producer writes
/// or finishes. A stream serves one response.
///
/// While the connection is suspended the server cannot see the client go away; the next `write`
/// reveals it. Producers that can be idle for long should write a heartbeat now and then (an SSE
/// comment line) so that `onClose` fires for clients that left.
///
/// With `writesDirectly` (many long-lived streams, Server-Sent Events), once the headers and the
/// first bytes are out the stream writes straight to the connection's socket from the producer's
/// thread, framing HTTP/1.1 chunks itself: no copy into a buffer, no resume and no server thread
/// per write. Bytes the socket does not take at once wait in the stream and are sent by the
/// `StreamSocketWriter` thread when the socket is writable; `finish()` ends the response after
/// they are all sent. Over TLS the socket cannot be written directly and the stream works as
/// without the option.
public final class ResponseStream: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var finished = false
    private var closed = false
    /// Set while the connection is attached; nil before and after.
    private var connection: OpaquePointer?
    private var suspended = false
    private var wasAttached = false
    private var closeHandlers: [@Sendable () -> Void] = []
    private var onDetach: (@Sendable () -> Void)?
    /// How often MHD asked for data (tests check that an idle stream is not polled).
    private(set) var readerCalls = 0

    /// Whether the producer may write to the socket itself (asked at creation).
    public let writesDirectly: Bool
    /// The connection's socket when direct writing is possible (plain HTTP), set at attach.
    private var socketForDirect: Int32 = -1
    /// Whether MHD frames this response in HTTP/1.1 chunks (so direct writes must too).
    private var chunked = false
    /// Whether the reader has handed out bytes (so MHD's headers are out before going direct).
    private var readerSentBytes = false
    /// The socket while writing directly; -1 otherwise. Once given up, never taken again.
    private var directSocket: Int32 = -1
    private var wentDirect = false
    /// Registered with the writer thread for the bytes waiting in `pending`.
    private var directRegistered = false
    /// The direct socket failed (client gone) or was abandoned: the reader ends with an error.
    private var directFailed = false
    private let directKey: UInt64

    /// `writesDirectly`: write to the socket from the producer's thread once the response is
    /// under way (see the type's description); meant for many long-lived streams.
    public init(writesDirectly: Bool = false) {
        self.writesDirectly = writesDirectly
        directKey = writesDirectly ? StreamSocketWriter.shared.makeKey() : 0
    }

    /// True while the stream writes to its socket itself (tests).
    var isWritingDirectly: Bool {
        lock.lock()
        defer { lock.unlock() }
        return directSocket >= 0
    }

    /// Queues `bytes` for the client. Returns false (and drops them) once the stream is closed
    /// or finished.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, !finished else { return false }
        if directSocket >= 0 {
            if !bytes.isEmpty { sendDirectLocked(bytes) }
            return true
        }
        if directFailed { return false }
        pending.append(contentsOf: bytes)
        wakeReaderLocked()
        return true
    }

    /// Queues the UTF-8 bytes of `text`.
    @discardableResult
    public func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Ends the body once everything written so far is sent. Further writes are dropped.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        if directSocket >= 0 {
            // Everything written so far is sent first; the writer thread ends it when drained.
            if pending.count - pendingStart == 0 {
                leaveDirectLocked(failed: false)
            } else {
                StreamSocketWriter.shared.noteDraining(self, key: directKey)
            }
            return
        }
        wakeReaderLocked()
    }

    /// True once the response is over: the client went away, the body was finished and sent, or
    /// the server stopped.
    public var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    var readerCallCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return readerCalls
    }

    /// Bytes written but not yet taken by the connection (a slow client makes this grow; a
    /// producer may give up on such a client by calling `finish()`).
    public var bufferedByteCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return pending.count - pendingStart
    }

    /// Calls `handler` once when the stream closes (on the server's thread), or right away if it
    /// already has.
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        lock.lock()
        if closed {
            lock.unlock()
            handler()
            return
        }
        closeHandlers.append(handler)
        lock.unlock()
    }

    // MARK: - Server side

    /// Binds the stream to `connection`. False if it already served a response. `finishNow`
    /// ends it at once (the server is stopping); `onDetach` runs when the connection lets go.
    ///
    /// `socket` is the connection's descriptor when the stream may write to it directly (plain
    /// HTTP; nil over TLS), `chunked` whether MHD sends the body in HTTP/1.1 chunks.
    func attach(to connection: OpaquePointer, finishNow: Bool, socket: Int32? = nil, chunked: Bool = false,
                onDetach: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !wasAttached, !closed else { return false }
        wasAttached = true
        self.connection = connection
        self.onDetach = onDetach
        if writesDirectly, let socket, socket >= 0 {
            socketForDirect = socket
            self.chunked = chunked
        }
        if finishNow { finished = true }
        return true
    }

    /// The content reader: copies waiting bytes into `buffer`, reports the end, or suspends the
    /// connection when there is nothing to send yet (returning 0, which MHD retries on resume).
    /// Called by MHD on the connection's thread.
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        readerCalls += 1
        let available = pending.count - pendingStart
        if available > 0 {
            let count = min(available, capacity)
            pending.withUnsafeBufferPointer { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + pendingStart,
                                                           byteCount: count)
            }
            pendingStart += count
            readerSentBytes = true
            if pendingStart == pending.count {
                pending.removeAll(keepingCapacity: pending.capacity <= 256 * 1024)
                pendingStart = 0
            } else if pendingStart >= 64 * 1024 && pendingStart * 2 >= pending.count {
                pending.removeFirst(pendingStart)
                pendingStart = 0
            }
            return count
        }
        if directFailed { return ro_mhd_content_reader_end_with_error() }
        if finished || closed { return ro_mhd_content_reader_end_of_stream() }
        guard let connection, !suspended else { return 0 }
        // MHD calls the reader only once everything it had (headers, earlier bytes) is sent:
        // from here on the producer may write to the socket itself.
        if socketForDirect >= 0, readerSentBytes, !wentDirect {
            wentDirect = true
            directSocket = socketForDirect
        }
        suspended = true
        MHD_suspend_connection(connection)
        return 0
    }

    /// The connection is done with the stream (body sent, client gone, or server stopping):
    /// after this no producer can resume it.
    func detach() {
        lock.lock()
        if directSocket >= 0 {
            if directRegistered { StreamSocketWriter.shared.unregister(key: directKey, socket: directSocket) }
            directRegistered = false
            directSocket = -1
        }
        connection = nil
        suspended = false
        closed = true
        pending = []
        pendingStart = 0
        let handlers = closeHandlers
        closeHandlers = []
        let detached = onDetach
        onDetach = nil
        lock.unlock()
        for handler in handlers { handler() }
        detached?()
    }

    // MARK: - Direct writes

    /// Sends `bytes` (one chunk) on the socket, or queues them behind bytes still waiting.
    /// Caller holds `lock` and is in direct mode.
    private func sendDirectLocked(_ bytes: [UInt8]) {
        let header: [UInt8] = chunked ? Array((String(bytes.count, radix: 16, uppercase: true) + "\r\n").utf8) : []
        let trailer: [UInt8] = chunked ? [13, 10] : []
        guard pending.count - pendingStart == 0 else {
            pending += header
            pending += bytes
            pending += trailer
            return
        }
        let total = header.count + bytes.count + trailer.count
        var sent = header.withUnsafeBytes { h in
            bytes.withUnsafeBytes { b in
                trailer.withUnsafeBytes { t in
                    var parts = [iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress), iov_len: h.count),
                                 iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count),
                                 iovec(iov_base: UnsafeMutableRawPointer(mutating: t.baseAddress), iov_len: t.count)]
                    return parts.withUnsafeMutableBufferPointer { iov in
                        var message = msghdr()
                        message.msg_iov = iov.baseAddress
                        message.msg_iovlen = iov.count
                        return sendmsg(directSocket, &message, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                    }
                }
            }
        }
        if sent < 0 {
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                leaveDirectLocked(failed: true)
                return
            }
            sent = 0
        }
        guard sent < total else { return }
        // Keep what the socket did not take, in order, and let the writer thread send it.
        var offset = sent
        for part in [header, bytes, trailer] {
            if offset >= part.count {
                offset -= part.count
                continue
            }
            pending.append(contentsOf: part[offset...])
            offset = 0
        }
        if !directRegistered {
            directRegistered = StreamSocketWriter.shared.register(self, key: directKey, socket: directSocket)
            if !directRegistered { leaveDirectLocked(failed: true) }
        }
    }

    /// The socket is writable again: sends what waits. Called on the writer thread.
    func flushDirect() {
        lock.lock()
        defer { lock.unlock() }
        guard directSocket >= 0 else { return }
        while pending.count - pendingStart > 0 {
            let sent = pending.withUnsafeBytes { buffer in
                send(directSocket, buffer.baseAddress! + pendingStart, buffer.count - pendingStart,
                     Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                leaveDirectLocked(failed: true)
                return
            }
            pendingStart += sent
        }
        pending.removeAll(keepingCapacity: pending.capacity <= 256 * 1024)
        pendingStart = 0
        if directRegistered {
            StreamSocketWriter.shared.unregister(key: directKey, socket: directSocket)
            directRegistered = false
        }
        if finished { leaveDirectLocked(failed: false) }
    }

    /// Gives the connection back to the server (ends the response with `failed` an error, which
    /// closes the connection). Called when a finished stream did not drain in time, or the server stops.
    func abandonDirect() {
        lock.lock()
        defer { lock.unlock() }
        guard directSocket >= 0 else { return }
        leaveDirectLocked(failed: true)
    }

    /// Stops writing to the socket and resumes the connection so that MHD ends the response:
    /// normally (the final chunk) or, `failed`, by closing the connection. Caller holds `lock`.
    private func leaveDirectLocked(failed: Bool) {
        guard directSocket >= 0 else { return }
        if directRegistered {
            StreamSocketWriter.shared.unregister(key: directKey, socket: directSocket)
            directRegistered = false
        }
        directSocket = -1
        if failed {
            directFailed = true
            pending = []
            pendingStart = 0
        }
        wakeReaderLocked()
    }

    /// Resumes the suspended connection so the reader runs again. Caller holds `lock`.
    private func wakeReaderLocked() {
        guard suspended, let connection else { return }
        suspended = false
        MHD_resume_connection(connection)
    }
}

extension ResponseStream: ShutdownParticipant {
    func shutDown() { finish() }
    /// The grace period is over: stop writing to the socket before the server closes it.
    func abandon() { abandonDirect() }
}
