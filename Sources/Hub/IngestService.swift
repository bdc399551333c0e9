import Adapters
import Foundation
import HTTP
import Mapping
import RecordStore
import SourceFormats
import Store
import Telemetry

/// Takes source records from an adapter into the record store: pushed bodies, imported files,
/// retried rejects. Decoding follows the adapter's mapping (`source.format` and its options).
public final class IngestService: Sendable {
    public let registry: IngestRegistry
    public let store: RecordStore

    public init(registry: IngestRegistry, store: RecordStore) {
        self.registry = registry
        self.store = store
    }

    /// The adapter and its compiled plan, or an HTTP error that says why it cannot take records.
    public func adapter(_ id: String) throws(HTTPError) -> (AdapterDeclaration, MappingPlan) {
        guard let registered = registry.adapter(id) else { throw HTTPError.notFound("no adapter '\(id)'") }
        guard let plan = registered.plan else {
            throw HTTPError(status: 409, code: "adapter_disabled",
                            message: "adapter '\(id)' is disabled: its mapping does not compile (\(registered.problems.count) problem(s))")
        }
        return (registered.declaration, plan)
    }

    /// Decodes a pushed body and stores it as one batch. A body in which not one record could be
    /// read is refused with 400 and the position of the first fault; otherwise good records are
    /// stored and bad ones rejected. `checkpoint` (pulled pages) is saved in the same transaction.
    public func ingest(adapterID: String, body: [UInt8], name: String = "body", checkpoint: String? = nil) throws -> BatchOutcome {
        let (declaration, plan) = try adapter(adapterID)
        let reader = try SourceReaders.reader(source: ByteSource(bytes: body, name: name), options: plan.source.readOptions)
        let items = reader.readAll()
        if let fault = items.first?.error, !items.contains(where: { $0.record != nil }) {
            throw HTTPError(status: 400, code: "undecodable_body", message: "the body is not valid \(plan.source.format.rawValue): \(fault) [\(fault.kind.rawValue)]")
        }
        let outcome = try store.ingest(items, adapter: IngestSource(declaration), plan: plan, checkpoint: checkpoint)
        return outcome
    }

    /// Progress of a file import, reported after each batch.
    public struct ImportProgress: Sendable {
        public var records = 0
        public var accepted = 0
        public var unchanged = 0
        public var rejected = 0
        public var skipped = 0
        public var events = 0
        public var conflicts = 0
        public var batches = 0
        public var seconds: Double = 0
        /// Bytes of the file read so far and in all (for an ETA), when known.
        public var bytesRead: Int?
        public var bytesTotal: Int?

        public var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    }

    /// Streams a file through the adapter's mapping into the store, `batchSize` records per
    /// transaction. Memory does not grow with the file. `progress` is called after every batch.
    public func importFile(adapterID: String, path: String, batchSize: Int = 2_000,
                           progress: (ImportProgress) -> Void = { _ in }) throws -> ImportProgress {
        let (declaration, plan) = try adapter(adapterID)
        let source = try ByteSource(path: path)
        let options = Self.importOptions(plan.source.readOptions, fileName: path)
        let reader: any SourceRecordReader = options.format == .xml
            ? try SourceReaders.open(path: path, options: options)
            : try SourceReaders.reader(source: source, options: options)
        var state = ImportProgress()
        state.bytesTotal = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let started = Date()
        // One thread, batch after batch. Preparing batch N+1 on a second thread while batch N
        // was written was tried: a little faster, but memory grew with the file (about 85 bytes
        // per record, released only at the end), so a district-sized import was not flat.
        var items: [SourceReadItem] = []
        items.reserveCapacity(batchSize)
        func flush() throws {
            guard !items.isEmpty else { return }
            let batch = try store.prepare(items, adapter: IngestSource(declaration), plan: plan)
            let outcome = try store.ingest(batch, adapter: IngestSource(declaration), plan: plan)
            state.records += items.count
            state.accepted += outcome.count(.accepted)
            state.unchanged += outcome.count(.unchanged)
            state.rejected += outcome.count(.rejected)
            state.skipped += outcome.count(.skipped)
            state.events += outcome.events
            state.conflicts += outcome.conflicts
            state.batches += 1
            state.seconds = Date().timeIntervalSince(started)
            state.bytesRead = options.format == .xml ? nil : source.bytesRead
            items.removeAll(keepingCapacity: true)
            progress(state)
        }
        while let item = reader.next() {
            items.append(item)
            if items.count >= batchSize { try flush() }
        }
        try flush()
        state.seconds = Date().timeIntervalSince(started)
        return state
    }

    /// A JSON adapter's records may also be imported as NDJSON (one record per line, no
    /// envelope), which streams: a JSON document is read whole, an NDJSON file line by line.
    static func importOptions(_ options: SourceReadOptions, fileName: String) -> SourceReadOptions {
        guard options.format == .json, SourceFormat(fileName: fileName) == .ndjson else { return options }
        var ndjson = options
        ndjson.format = .ndjson
        ndjson.recordsPath = nil
        return ndjson
    }

    /// Maps an open reject's record again with the adapter's current mapping and stores it.
    public func retry(rejectID: Int64, adapter owner: String? = nil) throws -> RecordOutcome {
        // Another adapter's reject answers as if it did not exist: a token learns nothing of others.
        guard let (adapterID, record) = try store.rejectedRecord(id: rejectID), owner == nil || owner == adapterID else {
            throw HTTPError.notFound("no open reject \(rejectID)" + (owner.map { " of adapter '\($0)'" } ?? ""))
        }
        let (declaration, plan) = try adapter(adapterID)
        let outcome = try store.ingest([.record(record)], adapter: IngestSource(declaration), plan: plan, reprocess: true)
        let result = outcome.records[0]
        if result.status == .accepted || result.status == .skipped { try store.markRetried(rejectID: rejectID) }
        return result
    }
}
