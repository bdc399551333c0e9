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
        /// Batches that began writing while the one before them was still being written, and
        /// entities such a batch shared with the one before (merged after its commit).
        public var besidePrevious = 0
        public var entitiesAfterPrevious = 0
        /// Batches written beside the one before that gave up waiting for it (`besideWait`),
        /// rolled back and were written again after it.
        public var besideRetried = 0
        public var seconds: Double = 0
        /// Bytes of the file read so far and in all (for an ETA), when known.
        public var bytesRead: Int?
        public var bytesTotal: Int?

        public var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    }

    /// Streams a file through the adapter's mapping into the store, `batchSize` records per
    /// transaction. Memory does not grow with the file. `progress` is called after every batch.
    ///
    /// `pipelined` (the default): a reader thread reads, hashes and maps the next batches while
    /// `writers` threads write the ones before, with at most `writers + 1` batches in flight
    /// (`BatchPipeline`); the store's pool then needs `writers + 1` connections. With two
    /// writers, a batch that shares nothing with the one before it (`PreparedBatch.dependsOn`)
    /// starts its transaction while that one is still being written, and waits for its commit
    /// before its own tail: the change log, counters and rejects come in file order, and the
    /// store ends exactly as with one batch at a time. Without `pipelined`, batch after batch on
    /// the calling thread. `besideWait`: see `IngestService.besideWait` (tests shorten it).
    public func importFile(adapterID: String, path: String, batchSize: Int = 2_000, pipelined: Bool = true, writers: Int = 2,
                           besideWait: Double = IngestService.besideWait,
                           progress: @escaping (ImportProgress) -> Void = { _ in }) throws -> ImportProgress {
        let (declaration, plan) = try adapter(adapterID)
        let source = try ByteSource(path: path)
        let options = Self.importOptions(plan.source.readOptions, fileName: path)
        let reader: any SourceRecordReader = options.format == .xml
            ? try SourceReaders.open(path: path, options: options)
            : try SourceReaders.reader(source: source, options: options)
        let started = Date()
        let adapter = IngestSource(declaration)
        let maker = ImportBatchMaker(store: store, reader: reader, source: options.format == .xml ? nil : source,
                                     adapter: adapter, plan: plan, batchSize: batchSize)
        let tally = ImportTally(bytesTotal: (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil,
                                started: started, progress: progress)
        let store = self.store
        if pipelined {
            let writers = max(1, min(2, writers))
            try BatchPipeline<ImportBatchMaker.Made>(depth: writers + 1, writers: writers).run(make: { try maker.next() }) { made, turn in
                let outcome: BatchOutcome
                var retried = false
                let beside = !made.dependsOnPrevious && writers > 1 && turn.number > 0
                if beside {
                    (outcome, retried) = try Self.ingestBesidePrevious(made.batch, turn: turn, store: store, adapter: adapter, plan: plan,
                                                                       wait: besideWait)
                } else {
                    try turn.awaitPrevious()
                    outcome = try store.ingest(made.batch, adapter: adapter, plan: plan)
                }
                tally.add(made, outcome, besidePrevious: beside, retried: retried)
            }
        } else {
            while let made = try maker.next() { tally.add(made, try store.ingest(made.batch, adapter: adapter, plan: plan)) }
        }
        return tally.finish()
    }

    /// How long a batch written beside the one before it waits, holding its locks, for that one's
    /// commit before it gives up, rolls back and is written again after it. A batch takes well
    /// under a second; a longer wait means the one before waits on something (another import's
    /// locks) that may in turn wait on this one, a cycle PostgreSQL cannot see.
    public static let besideWait = 10.0

    /// Writes a batch while the one before it may still be in its transaction (see `importFile`);
    /// `retried`: it gave up waiting, rolled back, and was written again after that one.
    static func ingestBesidePrevious(_ batch: PreparedBatch, turn: BatchTurn, store: RecordStore, adapter: IngestSource,
                                     plan: MappingPlan, wait: Double) throws -> (outcome: BatchOutcome, retried: Bool) {
        do {
            return (try store.ingest(batch, adapter: adapter, plan: plan, awaitTurn: { try turn.awaitPrevious(timeout: wait) }), false)
        } catch is BatchTurn.TimedOut {
            try turn.awaitPrevious()
            return (try store.ingest(batch, adapter: adapter, plan: plan), true)
        }
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

/// Reads a file's records into prepared batches (see `RecordStore.prepare`), one at a time; in a
/// pipelined import on its own thread, which is then the only one that touches the reader.
final class ImportBatchMaker: @unchecked Sendable {
    struct Made {
        var batch: PreparedBatch
        /// Bytes of the file read once this batch was read (nil for XML, read by libxml2).
        var bytesRead: Int?
        /// The batch must not start writing before the one made before it committed.
        var dependsOnPrevious = true
    }

    /// After a landing look-ahead that found nothing, the next one is this many batches later.
    /// A first load finds nothing and so saves most of its look-aheads; a re-import finds
    /// everything and looks every time. Skipping one is only slower, never different: the
    /// transaction looks at landing again for every record it has not been told about.
    static let lookAheadStride = 8

    let store: RecordStore
    let reader: any SourceRecordReader
    let source: ByteSource?
    let adapter: IngestSource
    let plan: MappingPlan
    let batchSize: Int
    private var batchNumber = 0
    private var nextLookAhead = 0
    /// What the batch made last touches, for `PreparedBatch.dependsOn`.
    private var previous: PreparedBatch.Footprint?

    init(store: RecordStore, reader: any SourceRecordReader, source: ByteSource?, adapter: IngestSource, plan: MappingPlan, batchSize: Int) {
        self.store = store
        self.reader = reader
        self.source = source
        self.adapter = adapter
        self.plan = plan
        self.batchSize = batchSize
    }

    /// The next batch, or nil at the end of the file.
    func next() throws -> Made? {
        var items: [SourceReadItem] = []
        items.reserveCapacity(batchSize)
        while items.count < batchSize, let item = reader.next() { items.append(item) }
        guard !items.isEmpty else { return nil }
        let lookAhead = batchNumber >= nextLookAhead
        var batch = try store.prepare(items, adapter: adapter, plan: plan, consultLanding: lookAhead)
        if lookAhead && batch.landedBeforeCount == 0 { nextLookAhead = batchNumber + Self.lookAheadStride }
        batchNumber += 1
        let dependent = batchNumber > 1 && batch.dependsOn(previous)
        if let previous, !dependent { batch.follow(previous) }
        previous = batch.footprint
        return Made(batch: batch, bytesRead: source?.bytesRead, dependsOnPrevious: dependent)
    }
}

/// An import's running totals, added to in batch order by whichever thread wrote the batch.
final class ImportTally: @unchecked Sendable {
    private let lock = NSLock()
    private var state = IngestService.ImportProgress()
    private let started: Date
    private let progress: (IngestService.ImportProgress) -> Void

    init(bytesTotal: Int?, started: Date, progress: @escaping (IngestService.ImportProgress) -> Void) {
        state.bytesTotal = bytesTotal
        self.started = started
        self.progress = progress
    }

    func add(_ made: ImportBatchMaker.Made, _ outcome: BatchOutcome, besidePrevious: Bool = false, retried: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        if besidePrevious { state.besidePrevious += 1 }
        if retried { state.besideRetried += 1 }
        state.entitiesAfterPrevious += outcome.entitiesAfterPrevious
        state.records += made.batch.itemCount
        state.accepted += outcome.count(.accepted)
        state.unchanged += outcome.count(.unchanged)
        state.rejected += outcome.count(.rejected)
        state.skipped += outcome.count(.skipped)
        state.events += outcome.events
        state.conflicts += outcome.conflicts
        state.batches += 1
        state.seconds = Date().timeIntervalSince(started)
        state.bytesRead = made.bytesRead
        progress(state)
    }

    func finish() -> IngestService.ImportProgress {
        lock.withLock {
            state.seconds = Date().timeIntervalSince(started)
            return state
        }
    }
}
