/// A JSON or JSON5 text that could not be read, with the file and the place where reading stopped.
///
/// The message says what was expected; it never quotes the value text (configuration files and
/// records may hold personal data).
public struct JSON5Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file name given to the parser (or `<json>` for records parsed from memory).
    public var file: String
    public var position: SourcePosition
    public var message: String

    public init(file: String, position: SourcePosition, message: String) {
        self.file = file
        self.position = position
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String { "\(file):\(position.line):\(position.column): \(message)" }
}

/// A failure found at a byte offset; turned into a ``JSON5Error`` with a line and column at the API boundary.
public struct ParseFailure: Error, Sendable {
    /// What the failure means for a reader of many records.
    public enum Kind: Sendable {
        /// The structure is broken: nothing after this point can be trusted.
        case syntax
        /// A fault inside one string or number (control character, escape, number form): the
        /// structure around it is intact, so a reader can step over that record and go on.
        case local
        /// Bytes that are not UTF-8 inside a string; local like `.local`.
        case encoding
        /// The value nests deeper than the parser's limit: the text may be fine, the value is refused.
        case tooDeep
    }

    public var offset: Int
    /// What was expected or found; never quotes the text.
    public var message: String
    public var kind: Kind

    public init(offset: Int, message: String, kind: Kind = .syntax) {
        self.offset = offset
        self.message = message
        self.kind = kind
    }
}
