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
struct ParseFailure: Error {
    var offset: Int
    var message: String
}
