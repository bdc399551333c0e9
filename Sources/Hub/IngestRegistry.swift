import Adapters
import Catalog
import Foundation
import JSON5
import Mapping
import RecordStore
import Store
import Telemetry

/// An adapter the hub can take records from: its declaration and its compiled mapping.
public struct RegisteredAdapter: Sendable {
    public let declaration: AdapterDeclaration
    /// nil when the mapping did not compile; `problems` says why.
    public let plan: MappingPlan?
    public let problems: [String]
}

/// The catalog, the adapters and their compiled mappings.
///
/// The catalog is loaded once at start-up; a catalog that does not load stops the hub (nothing can
/// be mapped without it). Adapters can be added, replaced and removed while the hub runs
/// (`put`, `remove`; thread-safe), so a push to an adapter registered over HTTP works at once.
/// An adapter whose mapping does not compile is kept, disabled, with its problems, so that one
/// broken mapping never takes the other departments down.
public struct IngestRegistry: Sendable {
    public let catalog: Catalog
    public let schema: MappingSchema
    public let rules: StoreRules
    /// Folder of the mapping files (an adapter's `mapping` is relative to it).
    public let mappingsDirectory: String
    private let table: AdapterTable
    /// The newest version of each mapping published over the API (replaces the file of that id).
    private let published = PublishedMappingTable()

    init(catalog: Catalog, schema: MappingSchema, rules: StoreRules, mappingsDirectory: String,
         adapters: [String: RegisteredAdapter]) {
        self.catalog = catalog
        self.schema = schema
        self.rules = rules
        self.mappingsDirectory = mappingsDirectory
        table = AdapterTable(adapters)
    }

    /// The newest published version of each mapping id.
    public var publishedMappings: [String: MappingVersion] { published.snapshot }

    /// Replaces the published versions and recompiles every adapter, so each applies its
    /// mapping's newest version from its next batch.
    public func usePublished(_ versions: [String: MappingVersion]) {
        published.set(versions)
        for adapter in adapters.values { put(compile(adapter.declaration)) }
    }

    /// Every adapter now (a snapshot).
    public var adapters: [String: RegisteredAdapter] { table.snapshot }

    /// One adapter, without copying the table.
    public func adapter(_ id: String) -> RegisteredAdapter? { table[id] }

    /// Adds or replaces an adapter.
    public func put(_ adapter: RegisteredAdapter) { table.put(adapter) }

    /// Removes an adapter; pushes to it get 404 from now on.
    public func remove(_ id: String) { table.remove(id) }

    /// Compiles a declaration's mapping against this registry's catalog.
    public func compile(_ declaration: AdapterDeclaration) -> RegisteredAdapter {
        Self.compile(declaration, mappings: mappingsDirectory, schema: schema, published: published.snapshot)
    }

    public static func load(_ configuration: HubConfiguration, logger: Logger) throws -> IngestRegistry {
        let catalog: Catalog
        do {
            catalog = try Catalog.load(directory: configuration.catalogDirectory)
        } catch {
            throw HubError("the catalog in \(configuration.catalogDirectory) does not load:\n\(error)")
        }
        let schema = MappingSchema(catalog: catalog)
        var adapters: [String: RegisteredAdapter] = [:]
        if FileManager.default.fileExists(atPath: configuration.adaptersDirectory) {
            let declarations: [AdapterDeclaration]
            do {
                declarations = try AdapterDeclarations.load(directory: configuration.adaptersDirectory, kinds: configuration.pullKinds,
                                                           departments: catalog.departments.map(\.id))
            } catch {
                throw HubError("adapter declarations in \(configuration.adaptersDirectory) have problems:\n\(error)")
            }
            for declaration in declarations {
                let registered = compile(declaration, mappings: configuration.mappingsDirectory, schema: schema)
                if registered.plan == nil {
                    logger.error("adapter disabled: its mapping does not compile",
                                 ["adapter": declaration.id, "problems": registered.problems.joined(separator: "; ")])
                }
                adapters[declaration.id] = registered
            }
        } else {
            logger.warning("no adapters folder; only admins can push, to no adapter", ["folder": configuration.adaptersDirectory])
        }
        return IngestRegistry(catalog: catalog, schema: schema, rules: StoreRules(catalog: catalog),
                              mappingsDirectory: configuration.mappingsDirectory, adapters: adapters)
    }

    /// The catalog alone, with no adapter (for checking declarations offline).
    public static func catalogOnly(catalogDirectory: String, mappingsDirectory: String) throws -> IngestRegistry {
        let catalog: Catalog
        do {
            catalog = try Catalog.load(directory: catalogDirectory)
        } catch {
            throw HubError("the catalog in \(catalogDirectory) does not load:\n\(error)")
        }
        return IngestRegistry(catalog: catalog, schema: MappingSchema(catalog: catalog), rules: StoreRules(catalog: catalog),
                              mappingsDirectory: mappingsDirectory, adapters: [:])
    }

    /// The mapping text an adapter applies: its file, unless a published version of the same
    /// mapping id is at least as new; with no file, the published mapping its `mapping` names.
    static func mappingText(_ declaration: AdapterDeclaration, mappings: String,
                            published: [String: MappingVersion]) -> (text: String, file: String)? {
        let path = (mappings as NSString).appendingPathComponent(declaration.mapping)
        if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
            let root = try? JSON5.parseDocument(text, file: path)
            if let id = root?["id"]?.stringValue, let newer = published[id], newer.version >= root?["version"]?.intValue ?? 0 {
                return (newer.text, "mapping \(id) version \(newer.version)")
            }
            return (text, path)
        }
        let id = declaration.mapping.hasSuffix(".json5") ? String(declaration.mapping.dropLast(6)) : declaration.mapping
        return published[id].map { ($0.text, "mapping \(id) version \($0.version)") }
    }

    static func compile(_ declaration: AdapterDeclaration, mappings: String, schema: MappingSchema,
                        published: [String: MappingVersion] = [:]) -> RegisteredAdapter {
        guard let (text, path) = mappingText(declaration, mappings: mappings, published: published) else {
            let file = (mappings as NSString).appendingPathComponent(declaration.mapping)
            return RegisteredAdapter(declaration: declaration, plan: nil,
                                     problems: ["\(file): cannot read the file as UTF-8, and no mapping of that id is published"])
        }
        do {
            let plan = try MappingPlan.compile(text: text, file: path, schema: schema)
            var problems: [String] = []
            if plan.source.adapter != declaration.id {
                problems.append("\(path): source.adapter is '\(plan.source.adapter)', not '\(declaration.id)'")
            }
            if plan.source.department != declaration.department {
                problems.append("\(path): source.department is '\(plan.source.department)', but the adapter belongs to '\(declaration.department)'")
            }
            return RegisteredAdapter(declaration: declaration, plan: problems.isEmpty ? plan : nil, problems: problems)
        } catch {
            return RegisteredAdapter(declaration: declaration, plan: nil, problems: error.problems.map(\.description))
        }
    }

    /// The catalog's department ids: the only list of departments adapters and mappings may name.
    public var departmentIDs: [String] { catalog.departments.map(\.id) }

    /// A resource by name, ignoring case (`person` and `Person` are the same resource).
    public func resource(named name: String) -> Resource? {
        catalog.resources.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// Stores each adapter's push-token hash (revoking its earlier ones); a reference that does
    /// not resolve is logged and leaves that adapter to admins.
    func registerTokens(pool: ConnectionPool, adaptersDirectory: String, logger: Logger) throws {
        for adapter in adapters.values.sorted(by: { $0.declaration.id < $1.declaration.id }) {
            guard let reference = adapter.declaration.token else { continue }
            let hash: String
            do {
                hash = try reference.resolveTokenHash(relativeTo: adaptersDirectory)
            } catch {
                logger.warning("adapter token not registered: \(error)", ["adapter": adapter.declaration.id])
                continue
            }
            try Self.storeToken(hash: hash, adapterID: adapter.declaration.id, pool: pool)
        }
    }

    /// Makes `hash` the adapter's one live push token (its earlier ones are revoked).
    static func storeToken(hash: String, adapterID: String, pool: ConnectionPool) throws {
        let bytes = PostgresBytes(hexDigest: hash)
        try pool.transaction { c in
            try c.execute("UPDATE api_tokens SET revoked_at = now() WHERE kind = 'adapter' AND subject = $1 AND token_hash <> $2 AND revoked_at IS NULL",
                          [adapterID, bytes])
            try c.execute("""
                INSERT INTO api_tokens (kind, subject, token_hash) VALUES ('adapter', $1, $2)
                ON CONFLICT (token_hash) DO UPDATE SET kind = 'adapter', subject = EXCLUDED.subject, revoked_at = NULL
                """, [adapterID, bytes])
        }
    }
}

extension PostgresBytes {
    /// Bytes from a hexadecimal digest.
    init(hexDigest: String) {
        var bytes: [UInt8] = []
        var high: UInt8?
        for c in hexDigest.utf8 {
            let v: UInt8 = c <= 57 ? c - 48 : (c | 0x20) - 87
            if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
        }
        self.init(bytes)
    }
}

/// The adapters of a registry behind a lock: read by every push, changed by registrations.
final class AdapterTable: @unchecked Sendable {
    private let lock = NSLock()
    private var adapters: [String: RegisteredAdapter]

    init(_ adapters: [String: RegisteredAdapter]) { self.adapters = adapters }

    var snapshot: [String: RegisteredAdapter] { lock.withLock { adapters } }
    subscript(id: String) -> RegisteredAdapter? { lock.withLock { adapters[id] } }
    func put(_ adapter: RegisteredAdapter) { lock.withLock { adapters[adapter.declaration.id] = adapter } }
    func remove(_ id: String) { _ = lock.withLock { adapters.removeValue(forKey: id) } }
}

/// Published mapping versions behind a lock: read by every compile, set when versions are published.
final class PublishedMappingTable: @unchecked Sendable {
    private let lock = NSLock()
    private var versions: [String: MappingVersion] = [:]

    var snapshot: [String: MappingVersion] { lock.withLock { versions } }
    func set(_ new: [String: MappingVersion]) { lock.withLock { versions = new } }
}
