import CLibPQ
import Foundation

/// A failure talking to PostgreSQL.
///
/// The plain description carries the SQLSTATE, the kind, the statement's first words and the
/// server's primary message; it never prints bound parameter values, and for data and integrity
/// errors (whose messages can quote a value) quoted text is redacted. `debugDescription` has the
/// server's full message and detail, for a developer's eyes only.
public struct PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The connection could not be made or was lost.
        case connection
        /// The server refused the credentials.
        case authentication
        /// The SQL text is wrong (syntax, unknown table or column).
        case syntax
        /// A constraint refused the data (unique, foreign key, check, not null).
        case constraint
        /// A value could not be converted or is out of range.
        case data
        /// Serialization failure or deadlock: the transaction may succeed if run again.
        case conflict
        /// The server is shutting down, starting up or out of resources.
        case unavailable
        /// A row could not be decoded into the Swift type asked for.
        case decoding
        /// Anything else the server reported.
        case server
    }

    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    /// The server's primary message (may quote values: use `description` for logs).
    let serverMessage: String
    let detail: String?
    /// The statement that failed, without its parameter values.
    public let statement: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, statement: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.serverMessage = message
        self.detail = detail
        self.statement = statement
    }

    /// Whether running the same work again (on a fresh connection, in a new transaction) can help.
    public var isRetriable: Bool {
        switch kind {
        case .connection, .conflict, .unavailable: true
        default: false
        }
    }

    public var description: String {
        var text = "PostgreSQL \(kind.rawValue) error"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let statement { text += " in \(Self.summary(of: statement))" }
        text += ": " + (redactsQuotes ? Self.redactQuoted(serverMessage) : serverMessage)
        return text
    }

    public var debugDescription: String {
        var text = "PostgreSQL \(kind.rawValue) error (SQLSTATE \(sqlState ?? "-")): \(serverMessage)"
        if let detail { text += "\nDETAIL: \(detail)" }
        if let statement { text += "\nSTATEMENT: \(statement)" }
        return text
    }

    private var redactsQuotes: Bool { kind == .data || kind == .constraint || kind == .decoding }

    /// Classifies a SQLSTATE into a kind (PostgreSQL Appendix A error classes).
    static func kind(forSQLState state: String) -> Kind {
        switch state.prefix(2) {
        case "08": return .connection
        case "28": return .authentication
        case "42": return .syntax
        case "23": return .constraint
        case "22": return .data
        case "40": return .conflict
        case "53", "57": return state == "57014" ? .server : .unavailable
        default: return .server
        }
    }

    /// Builds the error for a failed result (or a failed connection when `result` is nil).
    static func from(result: OpaquePointer?, connection: OpaquePointer?, statement: String?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        if let state = field("C") {
            return PostgresError(kind: kind(forSQLState: state), sqlState: state,
                                 message: field("M") ?? "unknown error", detail: field("D"), statement: statement)
        }
        let raw = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? "unknown error"
        let message = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let lost = connection.map { PQstatus($0) != CONNECTION_OK } ?? true
        return PostgresError(kind: lost ? .connection : .server, message: message.isEmpty ? "no result from server" : message,
                             statement: statement)
    }

    /// The first words of a statement, enough to say which one failed.
    static func summary(of sql: String) -> String {
        let oneLine = sql.split(whereSeparator: { $0 == "\n" || $0 == " " || $0 == "\t" }).joined(separator: " ")
        return oneLine.count > 60 ? "'" + oneLine.prefix(60) + "…'" : "'" + oneLine + "'"
    }

    static func redactQuoted(_ text: String) -> String {
        var out = ""
        var inQuote = false
        for ch in text {
            if ch == "\"" {
                out.append(ch)
                if !inQuote { out += "…" }
                inQuote.toggle()
            } else if !inQuote {
                out.append(ch)
            }
        }
        return out
    }
}
