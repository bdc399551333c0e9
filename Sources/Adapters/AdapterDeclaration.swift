import JSON5

/// One department system connected to the hub, as declared in `adapters/<id>.json5`.
///
/// ```json5
/// {
///   id: "police-hukou",              // stable, lowercase, used in URLs: /v1/ingest/police-hukou
///   department: "police",            // one of the catalog's departments (catalog.json5)
///   mapping: "police-hukou.json5",   // under the mappings folder
///   token: { env: "POLICE_HUKOU_TOKEN" },   // or { file: "..." } or { sha256: "<hex>" }
///   description: "公安人口户籍系统",
///   pull: { kind: "http-json", every: "5m", url: "...", ... },   // absent: the department pushes
/// }
/// ```
public struct AdapterDeclaration: Sendable, Equatable {
    /// Stable identifier: lowercase letters, digits and dashes.
    public var id: String
    /// The department whose system this is; authority ranks in the catalog compare departments.
    public var department: String
    /// The mapping file (relative to the mappings folder) that turns its records into canonical ones.
    public var mapping: String
    /// Where the department's push token is found; nil when only admins may push.
    public var token: SecretReference?
    public var description: String?
    /// How the hub pulls from the system; nil for systems that push.
    public var pull: PullDeclaration?
    /// The file the declaration came from.
    public var file: String

    public init(id: String, department: String, mapping: String, token: SecretReference? = nil,
                description: String? = nil, pull: PullDeclaration? = nil, file: String = "<memory>") {
        self.id = id
        self.department = department
        self.mapping = mapping
        self.token = token
        self.description = description
        self.pull = pull
        self.file = file
    }
}

/// A secret named by reference, never written in clear in an adapter file.
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable holding the secret.
    case environment(String)
    /// A file holding the secret (trailing white space ignored); relative to the adapters folder.
    case file(String)
    /// The SHA-256 (hex) of a bearer token: enough to check it, useless to steal.
    case sha256(String)

    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        case .sha256: "a SHA-256 hash"
        }
    }
}

/// A problem in an adapter declaration, with its position and the key path it concerns.
public struct AdapterProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition?
    public var path: String
    public var message: String

    public init(file: String, position: SourcePosition?, path: String, message: String) {
        self.file = file
        self.position = position
        self.path = path
        self.message = message
    }

    public var description: String {
        let place = position.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.isEmpty ? "\(place): \(message)" : "\(place): \(path): \(message)"
    }
}

/// Every problem found in a folder of adapter declarations, reported at once.
public struct AdapterLoadError: Error, Sendable, CustomStringConvertible {
    public var problems: [AdapterProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
