/// One pull run: pages from a source into a sink until the source has nothing more, a page
/// limit, or a failure. The checkpoint moves only through the sink's transactions.
public struct PullRunner: Sendable {
    /// Pages in one run before the adapter yields to others (it is due again at once).
    public var maxPages: Int
    /// A page whose records are all rejected counts as a mapping failure (permanent) only when it
    /// has at least this many records; a single bad record is a reject, not a broken mapping.
    public var mappingFailureMinimumRecords: Int

    public init(maxPages: Int = 100, mappingFailureMinimumRecords: Int = 2) {
        self.maxPages = maxPages
        self.mappingFailureMinimumRecords = mappingFailureMinimumRecords
    }

    /// What a run did.
    public struct Result: Sendable {
        public var pages = 0
        public var counts = PageCounts()
        /// The source said nothing more is available now.
        public var caughtUp = false
        /// Stopped because `shouldContinue` said so.
        public var interrupted = false
        public var failure: PullFailure?
    }

    /// Runs `source` from `checkpoint`. `shouldContinue` is asked before each page (pause, lost
    /// lease, hub stopping). Never throws: every failure is classified in the result.
    public func run(source: any PullSource, adapterID: String, checkpoint: String?, sink: any PulledPageSink,
                    shouldContinue: () -> Bool = { true }, pageStored: (PageCounts) -> Void = { _ in }) -> Result {
        var result = Result()
        var checkpoint = checkpoint
        while result.pages < maxPages {
            guard shouldContinue() else { result.interrupted = true; return result }
            let page: PulledPage?
            do {
                page = try source.nextPage(after: checkpoint)
            } catch {
                result.failure = error
                return result
            }
            guard let page else {
                result.caughtUp = true
                return result
            }
            let counts: PageCounts
            do {
                counts = try sink.store(page, adapterID: adapterID)
            } catch {
                result.failure = error
                return result
            }
            result.pages += 1
            result.counts += counts
            pageStored(counts)
            if let next = page.checkpoint { checkpoint = next }
            do {
                try source.didStore(page)
            } catch {
                result.failure = error
                return result
            }
            if counts.records >= mappingFailureMinimumRecords && counts.rejected == counts.records {
                result.failure = PullFailure(.permanent, "every record (\(counts.records)) of \(page.name) was rejected: "
                    + "the mapping does not fit what the department sends; see GET /v1/rejects?adapter=\(adapterID)")
                return result
            }
        }
        return result
    }
}
