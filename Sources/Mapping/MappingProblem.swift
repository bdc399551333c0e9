import JSON5

/// A problem found in a mapping file (static validation), with file, line:column and field path.
public struct MappingProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var file: String
    public var position: SourcePosition?
    /// Where in the mapping: e.g. `outputs[1].fields.maritalStatus.crosswalk`.
    public var path: String
    /// Stable code, e.g. `mapping.unknown_key`, `mapping.unknown_target`, `mapping.identity_unmapped`.
    public var rule: String
    public var message: String
    public var severity: Severity

    public init(file: String, position: SourcePosition?, path: String, rule: String, message: String, severity: Severity = .error) {
        self.file = file
        self.position = position
        self.path = path
        self.rule = rule
        self.message = message
        self.severity = severity
    }

    /// `file:line:column: error: path: message [rule]`.
    public var description: String {
        var out = file
        if let position { out += ":\(position.line):\(position.column)" }
        out += ": \(severity.rawValue): "
        if !path.isEmpty { out += "\(path): " }
        return out + "\(message) [\(rule)]"
    }
}

/// A mapping that could not be compiled: every problem found, at once.
public struct MappingCompileError: Error, Sendable, CustomStringConvertible {
    public var problems: [MappingProblem]
    public init(problems: [MappingProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
