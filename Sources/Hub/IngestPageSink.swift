import Adapters
import HTTP
import RecordStore
import Store

/// Stores pulled pages through the ingest path: the page's records and its checkpoint in one
/// transaction (`RecordStore.ingest(..., checkpoint:)`).
struct IngestPageSink: PulledPageSink {
    let ingest: IngestService
    let registrations: AdapterRegistrations

    func store(_ page: PulledPage, adapterID: String) throws(PullFailure) -> PageCounts {
        // Registered through another hub process moments ago: load it now rather than fail.
        if ingest.registry.adapter(adapterID) == nil { try? registrations.refresh() }
        // A text value in PostgreSQL ends at a NUL: such a checkpoint would be stored cut short.
        if let checkpoint = page.checkpoint, checkpoint.utf8.contains(0) {
            throw PullFailure(.permanent, "page \(page.name) gives a checkpoint holding a NUL character, which cannot be stored")
        }
        let outcome: BatchOutcome
        do {
            outcome = try ingest.ingest(adapterID: adapterID, body: page.body, name: page.name, checkpoint: page.checkpoint)
        } catch let error as HTTPError where error.status == 400 {
            throw PullFailure(.permanent, "page \(page.name) cannot be read: \(error.message)")
        } catch let error as HTTPError {
            throw PullFailure(.permanent, error.message)
        } catch let error as PostgresError where error.isRetriable {
            throw PullFailure(.retriable, "the database is unavailable: \(error)")
        } catch {
            throw PullFailure(.permanent, "storing page \(page.name) failed: \(error)")
        }
        return outcome.counts
    }
}

extension BatchOutcome {
    /// Records by outcome, for adapter counters.
    var counts: PageCounts {
        var counts = PageCounts(records: records.count)
        for record in records {
            switch record.status {
            case .accepted: counts.accepted += 1
            case .unchanged: counts.unchanged += 1
            case .rejected: counts.rejected += 1
            case .skipped: counts.skipped += 1
            }
        }
        return counts
    }
}
