import Adapters
import RecordStore

extension IngestSource {
    /// What the record store needs of a declared adapter: its id and department.
    public init(_ declaration: AdapterDeclaration) {
        self.init(id: declaration.id, department: declaration.department)
    }
}
