import Foundation
import Store

/// The health records system's reporting replica: a PostgreSQL table the `postgres-table` pull
/// kind reads incrementally (cursor `gxsj`, key `jkdabh`). Many rows share a `gxsj` (records
/// updated the same day), so the key must break ties.
public struct HealthArchiveTable {
    public let connection: PostgresConnection
    /// `schema.table`.
    public let name: String

    public init(connection: PostgresConnection, name: String = "health_archive.health_record") {
        self.connection = connection
        self.name = name
    }

    /// Creates the table (and its schema) and fills it with `population`'s health records; returns the row count.
    @discardableResult
    public func create(from population: DemoPopulation) throws -> Int {
        let schema = name.split(separator: ".").first.map(String.init) ?? "public"
        try connection.executeScript("""
            CREATE SCHEMA IF NOT EXISTS \(schema);
            CREATE TABLE \(name) (
                jkdabh text PRIMARY KEY, sfzh text, xm text, xb text, csrq text, xx text, rh text,
                mxb jsonb, jtys jsonb, gljg text, gxsj timestamptz NOT NULL
            );
            """)
        var rows = 0
        try connection.transaction { c in
            for key in population.health.keys {
                guard let record = population.health.record(key) else { continue }
                try insert(record, on: c)
                rows += 1
            }
        }
        return rows
    }

    private func insert(_ record: DepartmentRecord, on c: PostgresConnection) throws {
        func json(_ name: String) -> String? {
            for field in record.fields where field.name == name {
                if case .object(let members) = field.value {
                    var out: [UInt8] = []
                    RecordEncoding.appendJSON(members, to: &out)
                    return String(decoding: out, as: UTF8.self)
                }
            }
            return nil
        }
        let values: [String?] = [record["jkdabh"], record["sfzh"], record["xm"], record["xb"], record["csrq"], record["xx"],
                                 record["rh"], json("mxb"), json("jtys"), record["gljg"], record["gxsj"]]
        try c.execute("""
            INSERT INTO \(name) (jkdabh, sfzh, xm, xb, csrq, xx, rh, mxb, jtys, gljg, gxsj)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11::timestamptz)
            """, values)
    }

    /// A clinician updates `count` records' blood group: their `gxsj` becomes now. Returns the keys.
    @discardableResult
    public func touch(_ count: Int, bloodGroup: String = "4") throws -> [String] {
        try connection.query("""
            UPDATE \(name) SET xx = $1, gxsj = clock_timestamp()
            WHERE jkdabh IN (SELECT jkdabh FROM \(name) ORDER BY jkdabh LIMIT \(max(0, count)))
            RETURNING jkdabh
            """, [bloodGroup]).rows.map { $0[0] ?? "" }
    }
}
