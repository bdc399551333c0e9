import JSON5

/// One thing wrong in a catalog folder: where (file, line:column, path inside the file) and what.
public struct CatalogProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition?
    /// The place inside the file: `Person.fields.sex.type`, `codes[3].code`.
    public var path: String
    public var message: String

    public init(file: String, position: SourcePosition?, path: String, message: String) {
        self.file = file
        self.position = position
        self.path = path
        self.message = message
    }

    /// `file:line:column: path: message`.
    public var description: String {
        var out = file
        if let position { out += ":\(position.line):\(position.column)" }
        out += ": "
        if !path.isEmpty { out += "\(path): " }
        return out + message
    }
}

/// A catalog folder that could not be loaded. Holds every problem found, not only the first.
public struct CatalogLoadError: Error, Sendable, CustomStringConvertible {
    public var problems: [CatalogProblem]

    public init(problems: [CatalogProblem]) { self.problems = problems }

    /// One problem per line, sorted by file and position.
    public var description: String {
        let count = problems.count
        return "catalog has \(count) problem\(count == 1 ? "" : "s"):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
