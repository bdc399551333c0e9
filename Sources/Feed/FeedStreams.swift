import Foundation
import HTTP
import Store
import Telemetry

/// Server-Sent Events for many concurrent subscribers without a thread each.
///
/// Every open stream is a `ResponseStream` (its connection suspended by libmicrohttpd while it has
/// nothing to send) plus a cursor. One serial pump, woken by the `ChangeNotifier`, reads new change
/// events once into a shared in-memory tail, projects them once per subscription and cursor (the
/// streams of one subscription at one cursor share the result), appends one audit entry per such
/// delivery and round (in one statement, before anything is written to a client), and writes
/// `id: <position>` frames. A stream behind the tail (a reconnect with an old Last-Event-ID)
/// catches up from the database in chunks. A heartbeat comment goes to every stream when idle,
/// which also reveals clients that left; paused or removed subscriptions are closed then.
///
/// Streams write to their sockets directly (`ResponseStream(writesDirectly:)`, plain HTTP): a
/// round's frames are sent by one worker per core, each frame array shared by every stream of a
/// subscription at one cursor (no copy per stream). Previous versions of entities, which
/// area-changing updates need, are read once for all subscriptions (`PreviousRecordCache`).
public final class FeedStreams: @unchecked Sendable {
    final class Client: @unchecked Sendable {
        let id: Int
        let subscriptionID: String
        let projector: EventProjector
        /// Streams with the same key see the same events: same subscription, same version of it.
        let projectionKey: String
        let stream: ResponseStream
        var cursor: Int64
        init(id: Int, subscription: Subscription, projector: EventProjector, stream: ResponseStream, cursor: Int64) {
            self.id = id
            self.subscriptionID = subscription.id
            self.projectionKey = subscription.id + "@" + String(subscription.updatedAt.timeIntervalSince1970.bitPattern)
            self.projector = projector
            self.stream = stream
            self.cursor = cursor
        }
    }

    /// What every stream of one subscription at one cursor receives in a round, computed once
    /// for all of them (projection can read earlier versions from the database).
    struct Delivery {
        let events: [ProjectedEvent]
        let next: Int64
        let frame: [UInt8]
        let audit: AuditEntry?
    }

    let reader: FeedReader
    let notifier: ChangeNotifier
    let logger: Logger
    /// Events kept in memory for streams that are nearly caught up.
    let tailCapacity: Int
    /// Most events sent to one stream per round (then the others get their turn).
    let roundLimit = 1_000
    /// With at most `catchUpStreams` streams open, a stream behind the tail gets up to
    /// `catchUpRoundLimit` events per round (a few megabytes per stream).
    let catchUpStreams = 8
    let catchUpRoundLimit = 5_000
    /// A client with more than this many bytes unsent is skipped until it drains.
    let maxBuffered = 4 << 20

    private let lock = NSLock()
    private var clients: [Int: Client] = [:]
    private var nextID = 0
    private var pumpScheduled = false
    private let queue = DispatchQueue(label: "recordonce.feed.sse")
    private var tail: [ParsedChange] = []
    private var observer: Int?
    private var heartbeat: (any DispatchSourceTimer)?
    /// Previous entity versions, shared by the projectors of every stream.
    let previousRecords = PreviousRecordCache()
    /// Workers that send one round's frames (one per core).
    let writers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Whether streams write to their sockets directly; `RECORDONCE_SSE_DIRECT=off` sends through
    /// the HTTP server's threads instead (to compare, or if a network path misbehaves with it).
    let writesDirectly = ProcessInfo.processInfo.environment["RECORDONCE_SSE_DIRECT"] != "off"

    public init(reader: FeedReader, notifier: ChangeNotifier, logger: Logger, tailCapacity: Int = 20_000,
                heartbeatInterval: Double = 15) {
        self.reader = reader
        self.notifier = notifier
        self.logger = logger
        self.tailCapacity = tailCapacity
        observer = notifier.observe { [weak self] _ in self?.schedulePump() }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + heartbeatInterval, repeating: heartbeatInterval)
        timer.setEventHandler { [weak self] in self?.beat() }
        timer.resume()
        heartbeat = timer
    }

    /// Stops the pump and ends every open stream.
    public func stop() {
        if let observer { notifier.removeObserver(observer) }
        heartbeat?.cancel()
        let all = lock.withLock { () -> [Client] in
            let all = Array(clients.values)
            clients.removeAll()
            return all
        }
        for c in all { c.stream.finish() }
    }

    /// The number of open streams.
    public var count: Int { lock.withLock { clients.count } }

    /// Opens a stream for a subscriber that continues after `cursor`.
    public func open(_ subscription: Subscription, after cursor: Int64) -> ResponseStream {
        let stream = ResponseStream(writesDirectly: writesDirectly)
        stream.write("retry: 2000\n\n")
        let base = reader.projector(for: subscription)
        let projector = EventProjector(scope: base.scope, previousRecord: previousRecords.sharing(base.previousRecord))
        let client = lock.withLock { () -> Client in
            nextID += 1
            let c = Client(id: nextID, subscription: subscription, projector: projector,
                           stream: stream, cursor: cursor)
            clients[c.id] = c
            return c
        }
        stream.onClose { [weak self] in self?.remove(client.id) }
        schedulePump()
        return stream
    }

    private func remove(_ id: Int) {
        lock.withLock { _ = clients.removeValue(forKey: id) }
    }

    private func schedulePump() {
        let start = lock.withLock { () -> Bool in
            if pumpScheduled { return false }
            pumpScheduled = true
            return true
        }
        if start { queue.async { [weak self] in self?.pump() } }
    }

    /// One round: refill the tail, then serve each stream up to `roundLimit` events.
    private func pump() {
        lock.withLock { pumpScheduled = false }
        let active = lock.withLock { Array(clients.values) }
        guard !active.isEmpty else { return }
        var again = false
        do {
            try refillTail()
            let tailStart = tail.first?.position ?? (notifier.head + 1)
            let head = max(tail.last?.position ?? 0, notifier.head)
            // Streams of one subscription at one cursor get the same events: project them once.
            var deliveries: [String: [Int64: Delivery]] = [:]
            var batches: [(Client, Delivery)] = []
            for client in active where client.cursor < head && client.stream.bufferedByteCount < maxBuffered {
                if let shared = deliveries[client.projectionKey]?[client.cursor] {
                    batches.append((client, shared))
                    continue
                }
                var events: [ProjectedEvent] = []
                var next = client.cursor
                if client.cursor + 1 >= tailStart, !tail.isEmpty {
                    // Positions are gap-free, so the first event after the cursor is at a known index.
                    var i = max(0, min(tail.count, Int(client.cursor + 1 - tailStart)))
                    var scanned = 0
                    var memo = ProjectionMemo()
                    while i < tail.count && events.count < roundLimit && scanned < 50 * roundLimit {
                        if let p = try client.projector.project(tail[i], memo: &memo) { events.append(p) }
                        next = tail[i].position
                        i += 1
                        scanned += 1
                    }
                } else {
                    // Behind the tail: a few streams catching up read larger rounds (each round's
                    // audit entry, commit and hand-offs are a fixed cost); many share the cores
                    // and the memory, and keep to `roundLimit`.
                    let limit = active.count <= catchUpStreams ? catchUpRoundLimit : roundLimit
                    let page = try reader.page(client.projector, after: client.cursor, limit: limit, maxScan: 20 * limit)
                    events = page.events
                    next = page.next
                }
                let delivery = Delivery(events: events, next: next, frame: Self.frames(events),
                                        audit: events.isEmpty ? nil : AuditEntry.events(events, scope: client.projector.scope, channel: .stream))
                deliveries[client.projectionKey, default: [:]][client.cursor] = delivery
                batches.append((client, delivery))
            }
            // One audit entry per delivery (a subscription's events from one cursor), before anything
            // is sent. Streams of one subscription that receive the same events in the same round
            // share it: the entry says who (the subscription) received which entities and fields,
            // which is the same for all of them; writing it once per stream made 10,000 streams
            // cost 10,000 audit rows per round.
            let entries = deliveries.values.flatMap { $0.values.compactMap(\.audit) }
            if !entries.isEmpty { try reader.pool.withConnection { try AuditLog.append(entries, in: $0) } }
            for (client, delivery) in batches {
                client.cursor = delivery.next
                if delivery.next < head { again = true }
            }
            // Each write is a send system call on the stream's socket: spread them over the cores.
            let sends = batches
            let workers = sends.count >= 64 ? writers : 1
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < sends.count {
                    let (client, delivery) = sends[i]
                    if !delivery.frame.isEmpty { client.stream.write(delivery.frame) }
                    i += workers
                }
            }
        } catch {
            logger.warning("feed stream round failed; retrying", ["error": String(describing: error)])
            queue.asyncAfter(deadline: .now() + 0.5) { [weak self] in self?.schedulePump() }
            return
        }
        if again { schedulePump() }
    }

    /// `id: <position>` / `data: <event>` frames, written from each event's bytes.
    static func frames(_ events: [ProjectedEvent]) -> [UInt8] {
        var size = 0
        for e in events { size += e.bytes.count + 32 }
        var frame: [UInt8] = []
        frame.reserveCapacity(size)
        for e in events {
            frame.append(contentsOf: "id: ".utf8)
            frame.append(contentsOf: String(e.position).utf8)
            frame.append(contentsOf: "\ndata: ".utf8)
            frame.append(contentsOf: e.bytes)
            frame.append(contentsOf: "\n\n".utf8)
        }
        return frame
    }

    /// Reads events past the tail up to the head, and drops the oldest beyond the capacity.
    private func refillTail() throws {
        let head = notifier.head
        var last = tail.last?.position ?? lowestCursor()
        guard last < head else { return }
        try reader.readPool.withConnection { c in
            while last < head {
                let raw = try ChangeLog.read(after: last, limit: 5_000, from: c)
                if raw.isEmpty { break }
                tail.append(contentsOf: raw.map(ParsedChange.init))
                last = raw.last!.position
                if tail.count > tailCapacity { tail.removeFirst(tail.count - tailCapacity) }
            }
        }
    }

    /// Where to start the tail when it is empty: just before the lowest cursor near the head.
    private func lowestCursor() -> Int64 {
        let head = notifier.head
        let cursors = lock.withLock { clients.values.map(\.cursor) }
        let near = cursors.filter { head - $0 <= Int64(tailCapacity) }
        return near.min() ?? head
    }

    /// Heartbeat comments; closes streams of subscriptions that were paused or removed.
    private func beat() {
        let active = lock.withLock { Array(clients.values) }
        guard !active.isEmpty else { return }
        var live = Set<String>()
        if let subs = try? reader.subscriptions.list() {
            for s in subs where s.status == .active { live.insert(s.id) }
        } else {
            live = Set(active.map(\.subscriptionID))
        }
        for client in active {
            if live.contains(client.subscriptionID) {
                client.stream.write(": heartbeat\n\n")
            } else {
                client.stream.finish()
                remove(client.id)
            }
        }
    }
}
