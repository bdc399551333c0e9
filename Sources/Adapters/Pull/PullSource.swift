import JSON5

/// The contract between the scheduler and a pull kind (http-json, soap-xml, csv-drop,
/// postgres-table: one folder each under Sources/Adapters).
///
/// A run asks the source for pages until it returns nil. Each page is a body in the format the
/// adapter's mapping reads, plus the checkpoint that is true once the page is stored. The
/// scheduler stores the page and that checkpoint in one transaction, then calls `didStore`
/// (csv-drop moves the file to done/ there). A crash between the two repeats the page, which
/// landing turns into a no-op.
public protocol PullSource: AnyObject, Sendable {
    /// The next page after `checkpoint` (nil: first run), or nil when nothing is left for now.
    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage?
    /// Called after the page and its checkpoint were committed.
    func didStore(_ page: PulledPage) throws(PullFailure)
}

/// One page of source records as the department system returned it.
public struct PulledPage: Sendable {
    /// Bytes in the adapter mapping's source format (JSON, NDJSON, CSV, XML).
    public var body: [UInt8]
    /// Where the page came from, for reject positions and logs: "GET /persons?page=3", a file name.
    /// Never a URL query that carries a secret.
    public var name: String
    /// The checkpoint to save with this page (nil keeps the current one).
    public var checkpoint: String?
    /// Kind-specific data `didStore` needs (the file to move, for example).
    public var token: String?

    public init(body: [UInt8], name: String, checkpoint: String?, token: String? = nil) {
        self.body = body
        self.name = name
        self.checkpoint = checkpoint
        self.token = token
    }
}

/// Why a pull failed, classified so the scheduler knows whether to back off or stop.
public struct PullFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Timeouts, refused connections, 5xx, 429: back off with jitter and try again.
        case retriable
        /// 401/403, a SOAP fault that says the request is wrong, settings that cannot work:
        /// the adapter stops in state failing until an admin acts.
        case permanent
    }

    public var kind: Kind
    /// What went wrong, for operators. Never residents' personal data, never secrets.
    public var message: String
    /// Seconds the department asked us to wait (Retry-After), if it said.
    public var retryAfter: Double?

    public init(_ kind: Kind, _ message: String, retryAfter: Double? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}

/// A pull kind: validates its settings (the `pull` object of an adapter declaration) and builds
/// sources from them.
public protocol PullKind: Sendable {
    /// The name used in declarations: `pull: { kind: "http-json", ... }`.
    static var name: String { get }
    /// Every problem in `settings` at once, each attached to its key path (e.g. "pull.url").
    static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem]
    /// A source for validated settings. `secrets` resolves secret references (env or file).
    static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource
}

/// What a pull kind may need from the hub when it builds a source.
public struct PullContext: Sendable {
    /// The adapter's id (for names and logs).
    public var adapterID: String
    /// The folder the declaration came from: relative paths in settings are resolved against it.
    public var baseDirectory: String
    /// Resolves `{ env: NAME }` / `{ file: PATH }` to the secret's text.
    public var resolveSecret: @Sendable (SecretReference) throws -> String

    public init(adapterID: String, baseDirectory: String, resolveSecret: @escaping @Sendable (SecretReference) throws -> String) {
        self.adapterID = adapterID
        self.baseDirectory = baseDirectory
        self.resolveSecret = resolveSecret
    }
}
