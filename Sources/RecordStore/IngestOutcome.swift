import Mapping
import SourceFormats

/// What became of one source record in a batch.
public struct RecordOutcome: Sendable {
    public enum Status: String, Sendable {
        /// Mapped and stored (golden records may or may not have changed).
        case accepted
        /// Identical to what this adapter delivered before under the same source key: nothing done.
        case unchanged
        /// Failed reading, mapping or validation; kept in the rejects table with its reasons.
        case rejected
        /// Matched the mapping's skip condition: not an error, nothing stored.
        case skipped
    }

    /// Where the record is in its source (file:line, index): never its content.
    public var position: String
    public var sourceKey: String?
    public var status: Status
    /// Why a record was rejected, or warnings about dropped fields.
    public var problems: [Problem]
    /// Entities this record changed (resource/id), when accepted.
    public var entities: [String]

    /// One reason, without the record's values.
    public struct Problem: Sendable, Equatable {
        public var field: String
        public var rule: String
        public var message: String
        public var severity: String
    }
}

/// Totals and per-record outcomes of one stored batch.
public struct BatchOutcome: Sendable {
    public var records: [RecordOutcome] = []
    /// Golden-record versions written (one per changed entity).
    public var versionsWritten = 0
    /// Change events appended to the feed.
    public var events = 0
    /// Conflicts opened or updated.
    public var conflicts = 0
    /// Records without a usable identity key linked by matching.
    public var matchLinked = 0
    /// Records without a usable identity key sent to the review queue.
    public var matchCases = 0
    /// Open review cases linked automatically because a record with a clean key agreed.
    public var matchCasesLinked = 0
    /// Entities the batch before this one wrote too, merged once it had committed (a batch
    /// written beside the one before it: `PreparedBatch.dependsOn`).
    public var entitiesAfterPrevious = 0
    /// Last change-log position written, if any.
    public var lastPosition: Int64?

    public func count(_ status: RecordOutcome.Status) -> Int { records.filter { $0.status == status }.count }

    public init() {}
}
