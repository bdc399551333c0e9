import Adapters
import Foundation
import JSON5
import Secrets
import Store
import Telemetry

/// Adapter registrations: validated, persisted in the `adapters` table, and applied to the
/// running ingest registry. File declarations (adapters/*.json5) are written into the table at
/// start-up; registrations made over HTTP, in this process or another one, are picked up by
/// `refresh()`, which the hub calls every few seconds.
///
/// Locking: `lock` guards `revisions` (what this process last applied, by adapter id).
public final class AdapterRegistrations: @unchecked Sendable {
    public let registry: IngestRegistry
    public let store: AdapterRunStore
    let adaptersDirectory: String
    let kinds: [any PullKind.Type]
    let environment: [String: String]
    let logger: Logger
    private let lock = NSLock()
    private var revisions: [String: Int64] = [:]
    /// Published mapping versions, and the signature of the table this process last applied.
    public let mappingVersions: MappingVersionStore
    private var mappingSignature: String?
    private var refresher: Thread?
    private var stopRefreshing = false

    init(registry: IngestRegistry, store: AdapterRunStore, configuration: HubConfiguration, logger: Logger) {
        self.registry = registry
        self.store = store
        mappingVersions = MappingVersionStore(pool: store.pool)
        adaptersDirectory = configuration.adaptersDirectory
        kinds = configuration.pullKinds
        environment = configuration.scheduler.environment
        self.logger = logger
    }

    /// A registration refused, with every problem.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var problems: [AdapterProblem]
        public var description: String { problems.map(\.description).joined(separator: "\n") }
    }

    /// Checks a declaration as a registration would: the declaration and the kind's settings,
    /// secret references, and that the mapping compiles for this adapter. Every problem at once.
    public func validate(_ bytes: [UInt8], file: String) -> (adapter: RegisteredAdapter?, problems: [AdapterProblem]) {
        Self.validate(bytes, file: file, registry: registry, adaptersDirectory: adaptersDirectory, kinds: kinds, environment: environment)
    }

    /// `validate` without a running hub (the CLI's `adapter validate`).
    public static func validate(_ bytes: [UInt8], file: String, registry: IngestRegistry, adaptersDirectory: String,
                                kinds: [any PullKind.Type],
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> (adapter: RegisteredAdapter?, problems: [AdapterProblem]) {
        var (declaration, problems) = AdapterValidation.check(bytes, file: file, baseDirectory: adaptersDirectory,
                                                              environment: environment, kinds: kinds,
                                                              departments: registry.departmentIDs)
        // The mapping is checked even when other fields have problems, so that all are reported.
        guard let root = try? JSON5.parseDocument(bytes, file: file), let mappingNode = root["mapping"],
              let mapping = mappingNode.stringValue, !mapping.isEmpty else { return (nil, problems) }
        let probe = declaration ?? AdapterDeclaration(id: root["id"]?.stringValue ?? "", department: root["department"]?.stringValue ?? "",
                                                      mapping: mapping, file: file)
        let compiled = registry.compile(probe)
        for message in compiled.problems {
            problems.append(AdapterProblem(file: file, position: mappingNode.position, path: "mapping", message: "does not validate: \(message)"))
        }
        if !compiled.problems.isEmpty { declaration = nil }
        problems.sort { ($0.position?.line ?? 0, $0.position?.column ?? 0) < ($1.position?.line ?? 0, $1.position?.column ?? 0) }
        return (declaration == nil ? nil : compiled, problems)
    }

    /// Registers (or, with `replace`, replaces) an adapter from its declaration text. Throws
    /// `Invalid` with every problem, or `Conflict` when creating an id that exists.
    @discardableResult
    public func register(_ bytes: [UInt8], expectedID: String? = nil, replace: Bool) throws -> (RegisteredAdapter, AdapterRunStore.SaveResult) {
        let file = expectedID.map { "adapter \($0)" } ?? "request body"
        let (adapter, problems) = validate(bytes, file: file)
        var all = problems
        if let expectedID, let adapter, adapter.declaration.id != expectedID {
            all.append(AdapterProblem(file: file, position: nil, path: "id", message: "is '\(adapter.declaration.id)', but the URL names '\(expectedID)'"))
        }
        guard all.isEmpty, let adapter else { throw Invalid(problems: all) }
        let declaration = adapter.declaration
        let text = String(decoding: bytes, as: UTF8.self)
        guard let result = try store.save(id: declaration.id, declaration: text, origin: "api", file: nil,
                                          pullKind: declaration.pull?.kind, pullEvery: declaration.pull?.every,
                                          createOnly: !replace) else {
            throw Conflict(id: declaration.id)
        }
        if let reference = declaration.token {
            let hash = try reference.resolveTokenHash(relativeTo: adaptersDirectory, environment: environment)
            try IngestRegistry.storeToken(hash: hash, adapterID: declaration.id, pool: store.pool)
        }
        registry.put(adapter)
        if let revision = try store.declaration(id: declaration.id)?.revision {
            lock.withLock { revisions[declaration.id] = revision }
        }
        logger.info("adapter registered", ["adapter": declaration.id, "result": "\(result)"])
        return (adapter, result)
    }

    /// Creating an adapter whose id is taken.
    public struct Conflict: Error, Sendable, CustomStringConvertible {
        public var id: String
        public var description: String { "adapter '\(id)' exists; change it with PUT /v1/adapters/\(id)" }
    }

    /// Removes an adapter: its registration, its tokens, and its place in the registry.
    public func remove(id: String) throws -> Bool {
        let existed = try store.delete(id: id)
        registry.remove(id)
        _ = lock.withLock { revisions.removeValue(forKey: id) }
        if existed { logger.info("adapter removed", ["adapter": id]) }
        return existed
    }

    /// Issues a new department token for the adapter (earlier ones are revoked) and returns it;
    /// only its hash is kept.
    public func issueToken(id: String) throws -> String {
        let token = Secrets.newToken(prefix: "ro_adapter")
        try IngestRegistry.storeToken(hash: Secrets.hex(Secrets.sha256(token)), adapterID: id, pool: store.pool)
        return token
    }

    /// Writes the file declarations the registry loaded into the table (a file wins over an
    /// earlier registration of the same id).
    func storeFileDeclarations() throws {
        for adapter in registry.adapters.values.sorted(by: { $0.declaration.id < $1.declaration.id }) {
            let declaration = adapter.declaration
            guard let data = FileManager.default.contents(atPath: declaration.file) else { continue }
            try store.save(id: declaration.id, declaration: String(decoding: data, as: UTF8.self), origin: "file",
                           file: declaration.file, pullKind: declaration.pull?.kind, pullEvery: declaration.pull?.every)
        }
    }

    /// Applies registrations changed in the table since the last call (by any hub process).
    public func refresh() throws {
        try refreshMappings()
        let current = try store.revisions()
        let known = lock.withLock { revisions }
        for (id, revision) in current where known[id] != revision {
            guard let (text, file, _) = try store.declaration(id: id) else { continue }
            switch AdapterDeclarations.parse(Array(text.utf8), file: file ?? "adapter \(id)", kinds: kinds,
                                                    departments: registry.departmentIDs) {
            case .success(let declaration):
                registry.put(registry.compile(declaration))
            case .failure(let error):
                logger.error("a stored adapter declaration does not parse in this hub; the adapter is unavailable here",
                             ["adapter": id, "problems": error.description])
                registry.remove(id)
            }
            lock.withLock { revisions[id] = revision }
        }
        for id in known.keys where current[id] == nil {
            registry.remove(id)
            _ = lock.withLock { revisions.removeValue(forKey: id) }
        }
    }

    /// Applies mapping versions published since the last call (by any hub process).
    public func refreshMappings() throws {
        let signature = try mappingVersions.signature()
        guard lock.withLock({ mappingSignature != signature }) else { return }
        registry.usePublished(try mappingVersions.newest())
        lock.withLock { mappingSignature = signature }
    }

    /// Calls `refresh()` every `seconds` on a background thread until `stop()`.
    func startRefreshing(every seconds: Double) {
        let thread = Thread { [self] in
            while !lock.withLock({ stopRefreshing }) {
                Thread.sleep(forTimeInterval: seconds)
                if lock.withLock({ stopRefreshing }) { break }
                do { try refresh() } catch { logger.warning("cannot refresh adapter registrations: \(error)") }
            }
        }
        thread.name = "adapter-refresh"
        refresher = thread
        thread.start()
    }

    func stop() { lock.withLock { stopRefreshing = true } }
}
