import Adapters
import Catalog
import Foundation
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

    init(catalog: Catalog, schema: MappingSchema, rules: StoreRules, mappingsDirectory: String,
         adapters: [String: RegisteredAdapter]) {
        self.catalog = catalog
        self.schema = schema
        self.rules = rules
        self.mappingsDirectory = mappingsDirectory
        table = AdapterTable(adapters)
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
        Self.compile(declaration, mappings: mappingsDirectory, schema: schema)
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
                declarations = try AdapterDeclarations.load(directory: configuration.adaptersDirectory, kinds: configuration.pullKinds)
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

    static func compile(_ declaration: AdapterDeclaration, mappings: String, schema: MappingSchema) -> RegisteredAdapter {
        let path = (mappings as NSString).appendingPathComponent(declaration.mapping)
        do {
            let plan = try MappingValidator.load(file: path, schema: schema)
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
