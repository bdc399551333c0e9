/// Where the scheduler stores pulled pages. The hub implements it with its ingest path: the page's
/// records and `page.checkpoint` are written in one transaction (the Adapters module does not
/// depend on the record store).
public protocol PulledPageSink: Sendable {
    /// Decodes `page.body` with the adapter's mapping and stores its records together with
    /// `page.checkpoint`. Throws `PullFailure`: `.permanent` when the page cannot be read at all
    /// (not valid JSON/CSV/XML for the mapping), `.retriable` when the database is unavailable.
    func store(_ page: PulledPage, adapterID: String) throws(PullFailure) -> PageCounts
}
