import Foundation

/// Static validation of mapping files: every problem at once, each with file:line:column and path.
public enum MappingValidator {
    /// Validates a mapping file against the catalog schema (unreadable file -> one problem).
    public static func validate(file: String, schema: MappingSchema) -> [MappingProblem] {
        guard let data = FileManager.default.contents(atPath: file) else {
            return [MappingProblem(file: file, position: nil, path: "", rule: "mapping.io", message: "cannot read the file")]
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return [MappingProblem(file: file, position: nil, path: "", rule: "mapping.encoding", message: "mapping files must be UTF-8")]
        }
        return validate(text: text, file: file, schema: schema)
    }

    /// Validates mapping text (`file` is used in positions).
    public static func validate(text: String, file: String, schema: MappingSchema) -> [MappingProblem] {
        MappingCompiler.compile(text: text, file: file, schema: schema).1
    }

    /// Loads and compiles a mapping file.
    public static func load(file: String, schema: MappingSchema) throws(MappingCompileError) -> MappingPlan {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw MappingCompileError(problems: [MappingProblem(file: file, position: nil, path: "", rule: "mapping.io", message: "cannot read the file as UTF-8")])
        }
        return try MappingPlan.compile(text: text, file: file, schema: schema)
    }
}
