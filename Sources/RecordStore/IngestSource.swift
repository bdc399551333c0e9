/// The system a batch comes from, as the store needs it: the adapter's id (landing, checkpoints,
/// rejects, provenance) and its department (authority ranks, record-once counters).
public struct IngestSource: Sendable, Hashable {
    public var id: String
    public var department: String

    public init(id: String, department: String) {
        self.id = id
        self.department = department
    }
}
