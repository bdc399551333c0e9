import Foundation
import Store

/// Catch-up: a backlog of N change events, then one subscriber reads all of it through the hub,
/// by `GET /v1/feed` pages and by SSE from position 0, beside a raw libpq SELECT of the same
/// change_log rows in the same run.
enum FeedCatchupBenchmark {
    static let usage = """
          catchup [--events N] [--page P] [--rounds R] [--recordonce PATH] [--work DIR]
              Append N Person events to the change log directly (COPY in transactions of 20,000, as
              the store's writers append them; not through the hub), then read them all as one
              subscriber: GET /v1/feed?after=&limit=P&format=ndjson pages, and an SSE stream from 0.
              Reference: the same rows with libpq, the hub's read query (ChangeLog.read, pages of P)
              and a plain SELECT (pages of 10,000). Each path runs once per round, in turn; the table
              shows each one's median round. Defaults: --events 200000 --page 10000 (the most a pull
              page may hold) --rounds 3.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let total = try FeedBenchmark.count(args, "events", default: 200_000)
        let page = try FeedBenchmark.count(args, "page", default: 10_000)
        let rounds = try FeedBenchmark.count(args, "rounds", default: 3)
        let hub = try FeedBenchmark.startHub(args)
        defer { hub.stop() }
        let token = try hub.subscribe(name: "catchup")

        let loadSeconds = try measure { try load(total, into: hub.connection) }
        let head = try hub.head()
        FeedBenchmark.progress("catchup: \(head) events loaded at \(rate(total, loadSeconds))/s")

        // Each path once per round, in turn, so that a slow moment of a shared machine falls on
        // every path alike; the table shows each path's median round.
        var pulls: [Double] = [], streams: [Double] = [], reads: [Double] = [], selects: [Double] = []
        var pulled = 0, pulledBytes = 0, streamed = 0, readRows = 0, selectRows = 0
        for round in 1...rounds {
            pulled = 0
            pulledBytes = 0
            pulls.append(try measure {
                var after: Int64 = 0
                while after < head {
                    let response = try hub.send("GET", "/v1/feed?after=\(after)&limit=\(page)&format=ndjson", token: token, timeout: 120)
                    guard response.status == 200, let next = response.header("RecordOnce-Next-Position").flatMap({ Int64($0) }), next > after else {
                        throw BenchmarkError("GET /v1/feed after \(after) answered \(response.status) without progress")
                    }
                    pulled += lineCount(response.body)
                    pulledBytes += response.body.count
                    after = next
                }
            })

            let subscriber = try BlockingSSEClient(port: hub.port, token: token, after: 0)
            let receiver = Thread { subscriber.readUntilStopped() }
            streams.append(try measure {
                receiver.start()
                guard subscriber.waitFor(position: head, timeout: 600) else {
                    throw BenchmarkError("the SSE stream stopped at \(subscriber.lastPosition) of \(head)")
                }
            })
            subscriber.stop()
            streamed = Set(subscriber.received.map(\.position)).count

            readRows = 0
            reads.append(try measure {
                var after: Int64 = 0
                while true {
                    let events = try ChangeLog.read(after: after, limit: page, from: hub.connection)
                    guard let last = events.last else { break }
                    readRows += events.count
                    after = last.position
                }
            })
            selectRows = 0
            selects.append(try measure {
                var after: Int64 = 0
                while true {
                    let result = try hub.connection.query("""
                        SELECT position, resource, entity_id, version, operation, changed_fields::text, record::text, sources::text, created_at
                        FROM change_log WHERE position > $1 ORDER BY position LIMIT 10000
                        """, [after])
                    guard result.count > 0, let last = result.rows.last else { break }
                    selectRows += result.count
                    after = try last.decode(Int64.self, "position")
                }
            })
            FeedBenchmark.progress("catchup round \(round): pull \(rate(pulled, pulls.last!))/s, SSE \(rate(streamed, streams.last!))/s, "
                                   + "ChangeLog.read \(rate(readRows, reads.last!))/s, SELECT \(rate(selectRows, selects.last!))/s")
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let pullSeconds = median(pulls), streamSeconds = median(streams), readSeconds = median(reads), selectSeconds = median(selects)

        print("| Path (\(head) events, one subscriber; median of \(rounds) rounds) | Events | Seconds | Events/s | vs raw SELECT |")
        print("| --- | ---: | ---: | ---: | ---: |")
        let reference = Double(selectRows) / selectSeconds
        func row(_ name: String, _ n: Int, _ s: Double) {
            print("| \(name) | \(n) | \(String(format: "%.2f", s)) | \(rate(n, s)) | \(String(format: "%.2f", Double(n) / s / reference))x |")
        }
        row("`GET /v1/feed?limit=\(page)&format=ndjson` pages (\(pulledBytes / (1 << 20)) MB)", pulled, pullSeconds)
        row("SSE `/v1/feed/stream?after=0`", streamed, streamSeconds)
        row("reference: libpq `ChangeLog.read` pages of \(page) (the hub's read query, decoded)", readRows, readSeconds)
        row("reference: libpq plain SELECT pages of 10,000 (not decoded)", selectRows, selectSeconds)
        print("")
        print("Backlog loaded at \(rate(total, loadSeconds)) events/s. Load average at the end: \(FeedBenchHub.loadAverage()).")
        return pulled == Int(head) && streamed == Int(head) ? 0 : 1
    }

    /// Appends `total` Person events of district 510108 in transactions of 20,000.
    static func load(_ total: Int, into connection: PostgresConnection) throws {
        var done = 0
        while done < total {
            let n = min(20_000, total - done)
            let events = (done..<(done + n)).map { i in
                NewChangeEvent(resource: "Person", entityID: "00000000-0000-4000-8000-\(String(format: "%012d", i))", version: 1,
                               operation: .created, changedFields: ["citizen_id", "name", "sex", "mobile", "community_code"],
                               record: person(i))
            }
            try connection.transaction { c in try ChangeLog.append(events, in: c) }
            done += n
            if done % 200_000 == 0 { FeedBenchmark.progress("  loaded \(done)") }
        }
    }

    /// A synthetic Person record (the same shape as the feed tests' records).
    static func person(_ i: Int) -> String {
        let id = String(format: "5101081990%06d%02d", i % 1_000_000, i % 97)
        return """
        {"citizen_id":"\(id)","name":"居民\(i)号","sex":"\(1 + i % 2)","mobile":"138\(String(format: "%08d", i % 100_000_000))",\
        "date_of_birth":"1990-01-\(String(format: "%02d", 1 + i % 28))","current_address":"四川省成都市成华区猛追湾街道望平街\(i)号",\
        "community_code":"51010800100\(1 + i % 8)","registered_division":"51010800100\(1 + i % 8)","political_status":"01"}
        """
    }

    /// Newlines in `bytes` (one per NDJSON event), found with memchr.
    static func lineCount(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { b in
            guard var p = b.baseAddress else { return 0 }
            let end = p + b.count
            var n = 0
            while p < end, let hit = memchr(p, 10, end - p) {
                n += 1
                p = UnsafeRawPointer(hit) + 1
            }
            return n
        }
    }

    static func measure(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func rate(_ n: Int, _ seconds: Double) -> Int { seconds > 0 ? Int(Double(n) / seconds) : 0 }
}
