import Foundation
import Testing
@testable import Store

@Suite struct PostgresConnectionTests {
    @Test func parametersRoundTripTypedValues() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        let when = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let row = try #require(try c.query(
            "SELECT $1::text AS s, $2::bigint AS i, $3::float8 AS d, $4::bool AS b, $5::timestamptz AS t, $6::text AS n, $7::bytea AS y",
            ["张三'; DROP TABLE x; --", Int64(9_007_199_254_740_993), 2.5, true, when, String?.none,
             PostgresBytes([0, 1, 254, 255])]).first)
        #expect(try row.decode(String.self, "s") == "张三'; DROP TABLE x; --")
        #expect(try row.decode(Int64.self, "i") == 9_007_199_254_740_993)
        #expect(try row.decode(Double.self, "d") == 2.5)
        #expect(try row.decode(Bool.self, "b"))
        #expect(abs(try row.decode(Date.self, "t").timeIntervalSince(when)) < 0.000_01)
        #expect(try row.decodeIfPresent(String.self, "n") == nil)
        #expect(try row.decode(PostgresBytes.self, "y").bytes == [0, 1, 254, 255])
    }

    @Test func arraysBindForUnnest() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        let values = ["a", "b\"c", "d\\e", "王,五", "{x}"]
        let result = try c.query("SELECT unnest($1::text[]) AS v", [values])
        #expect(result.rows.map { $0["v"] } == values)
    }

    @Test func decodingErrorsNameTheColumnNotTheValue() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        let row = try #require(try c.query("SELECT '11010519491231002X'::text AS id, NULL::text AS missing").first)
        let error = try #require(throws: PostgresError.self) { try row.decode(Int.self, "id") }
        #expect(error.kind == .decoding)
        #expect(String(describing: error).contains("id"))
        #expect(!String(describing: error).contains("11010519491231002X"))
        #expect(throws: PostgresError.self) { try row.decode(String.self, "missing") }
        #expect(throws: PostgresError.self) { try row.decode(String.self, "nope") }
    }

    @Test func errorsCarrySQLStateAndHideParameterValues() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        let syntax = try #require(throws: PostgresError.self) { try c.query("SELEC 1") }
        #expect(syntax.kind == .syntax)
        #expect(syntax.sqlState == "42601")
        #expect(!syntax.isRetriable)

        let data = try #require(throws: PostgresError.self) { try c.query("SELECT $1::int", ["110105194912310021"]) }
        #expect(data.kind == .data)
        #expect(data.sqlState?.hasPrefix("22") == true)
        #expect(!String(describing: data).contains("110105194912310021"))
        #expect(data.debugDescription.contains("110105194912310021"))

        try c.executeScript("CREATE TABLE p (id text PRIMARY KEY)")
        try c.execute("INSERT INTO p VALUES ($1)", ["440524188001010014"])
        let dup = try #require(throws: PostgresError.self) { try c.execute("INSERT INTO p VALUES ($1)", ["440524188001010014"]) }
        #expect(dup.kind == .constraint)
        #expect(dup.sqlState == "23505")
        #expect(!String(describing: dup).contains("440524188001010014"))
    }

    @Test func lostConnectionIsRetriableAndAuthenticationIsNot() throws {
        let url = try TestDatabase.fresh()
        let victim = try PostgresConnection(url: url)
        let killer = try PostgresConnection(url: url)
        try killer.query("SELECT pg_terminate_backend($1)", [victim.backendPID])
        let lost = try #require(throws: PostgresError.self) { try victim.query("SELECT 1") }
        #expect(lost.isRetriable)
        #expect(!victim.isOpen)

        let badRole = url.replacingOccurrences(of: "user=recordonce", with: "user=nobody_here")
        let auth = try #require(throws: PostgresError.self) { try PostgresConnection(url: badRole) }
        #expect(auth.kind == .authentication)
        #expect(!auth.isRetriable)

        let down = try #require(throws: PostgresError.self) {
            try PostgresConnection(url: "postgresql:///x?host=/tmp/no-such-socket-folder&connect_timeout=2")
        }
        #expect(down.kind == .connection)
        #expect(down.isRetriable)
    }

    @Test func transactionsCommitRollBackAndNest() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        try c.executeScript("CREATE TABLE t (v int)")
        try c.transaction { try $0.execute("INSERT INTO t VALUES (1)") }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try c.transaction { c in
                try c.execute("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        }
        try c.transaction { c in
            try c.execute("INSERT INTO t VALUES (3)")
            try? c.transaction { c -> Void in
                try c.execute("INSERT INTO t VALUES (4)")
                throw Boom()
            }
        }
        #expect(try c.query("SELECT v FROM t ORDER BY v").rows.map { $0["v"] } == ["1", "3"])
        #expect(!c.inTransaction)
    }

    @Test func copyInLoadsRowsWithEscapesAndNulls() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        try c.executeScript("CREATE TABLE landing (n int, a text, b text)")
        let awkward = "tab\there\nnew line\\back slash\r𠀀"
        let loaded = try c.copyIn("COPY landing (n, a, b) FROM STDIN") { w in
            for i in 0..<20_000 {
                try w.appendRow([String(i), i == 7 ? awkward : "row \(i)", i % 2 == 0 ? nil : "x"])
            }
        }
        #expect(loaded == 20_000)
        #expect(try c.query("SELECT a FROM landing WHERE n = 7").first?["a"] == awkward)
        #expect(try c.query("SELECT count(*) AS k FROM landing WHERE b IS NULL").first?["k"] == "10000")
    }

    /// The writer skips eight bytes at a time when none needs escaping: each special byte, and
    /// bytes close to them (0x0D-0x0F, 0x5B-0x5D), at every offset of texts of many lengths must
    /// come back as written.
    @Test func copyInEscapesSpecialBytesAtEveryOffset() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        try c.executeScript("CREATE TABLE t (n int, a text)")
        var texts: [String] = []
        for special in ["\t", "\n", "\r", "\\", "\u{0B}", "\u{0E}", "\u{0F}", "[", "]", "\u{1}"] {
            for length in [1, 7, 8, 9, 15, 16, 17, 31] {
                for offset in 0..<length {
                    var scalars = Array(repeating: "x", count: length)
                    scalars[offset] = special
                    texts.append(scalars.joined() + (length % 2 == 0 ? "成华" : ""))
                }
            }
        }
        texts.append("\\\\\t\t\n\n\r\r\\x\\")
        try c.copyIn("COPY t (n, a) FROM STDIN") { w in
            for (i, text) in texts.enumerated() { try w.appendRow([String(i), text]) }
        }
        let back = try c.query("SELECT a FROM t ORDER BY n").rows.map { $0["a"] ?? "" }
        #expect(back == texts)
    }

    @Test func escapeTestOfEightBytesNeverMissesASpecialByte() {
        for special: UInt8 in [9, 10, 13, 92] {
            for offset in 0..<8 {
                var bytes = [UInt8](repeating: 0x7A, count: 8)
                bytes[offset] = special
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(CopyWriter.mayNeedEscape(word))
            }
        }
        let plain = Array("abcdefgh".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(!CopyWriter.mayNeedEscape(plain))
        let chinese = Array("成华区".utf8).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(!CopyWriter.mayNeedEscape(chinese))
    }

    @Test func copyInWithBadRowFailsAndLeavesConnectionUsable() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        try c.executeScript("CREATE TABLE landing (n int)")
        #expect(throws: PostgresError.self) {
            try c.copyIn("COPY landing (n) FROM STDIN") { w in
                try w.appendRow(["1"])
                try w.appendRow(["not a number"])
            }
        }
        #expect(try c.query("SELECT count(*) AS k FROM landing").first?["k"] == "0")
    }

    @Test func listenReceivesNotificationsFromAnotherSession() throws {
        let url = try TestDatabase.fresh()
        let listener = try PostgresConnection(url: url)
        try listener.listen("changes")
        #expect(try listener.waitForNotifications(timeout: 0.05).isEmpty)
        let sender = try PostgresConnection(url: url)
        try sender.transaction { c in
            for i in 0..<100 { try c.notify("changes", payload: "\(i)") }
        }
        var received: [String] = []
        let deadline = Date().addingTimeInterval(5)
        while received.count < 100 && Date() < deadline {
            received += try listener.waitForNotifications(timeout: 1).map(\.payload)
        }
        #expect(received == (0..<100).map(String.init))
    }
}
