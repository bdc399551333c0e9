/// The departments' systems the generator feeds, one per adapter in adapters/ and mapping in mappings/.
public enum DepartmentSystem: String, CaseIterable, Sendable {
    case policeHukou = "police-hukou"
    case socialSecurity = "social-security"
    case healthRecords = "health-records"
    case civilDibao = "civil-dibao"
    case civilMarriage = "civil-marriage"
    case civilDeath = "civil-death"

    /// The adapter (and mapping) id that reads this department's records.
    public var adapterID: String { rawValue }

    /// The file `DistrictFileWriter` writes, named so the adapter is obvious. Police and health are
    /// NDJSON (one record per line, streamed by the importer); social security is its SOAP answer;
    /// civil affairs are GB18030 CSV exports.
    public var fileName: String {
        switch self {
        case .policeHukou: "police-hukou.ndjson"
        case .socialSecurity: "social-security.xml"
        case .healthRecords: "health-records.ndjson"
        case .civilDibao: "civil-dibao.csv"
        case .civilMarriage: "civil-marriage.csv"
        case .civilDeath: "civil-death.csv"
        }
    }
}

/// A value in a department's record: text, a JSON boolean, a nested object, or an explicit null
/// (JSON `null`, XML `xsi:nil`).
public indirect enum SourceFieldValue: Sendable, Equatable {
    case text(String)
    case bool(Bool)
    case object([SourceField])
    case null
}

/// One named field, in the order the department's system writes it.
public struct SourceField: Sendable, Equatable {
    public var name: String
    public var value: SourceFieldValue
    public init(_ name: String, _ value: SourceFieldValue) {
        self.name = name
        self.value = value
    }
    public init(_ name: String, _ text: String) {
        self.name = name
        value = .text(text)
    }
}

/// One record as a department's system holds it, ready to serialize in that department's format.
public struct DepartmentRecord: Sendable, Equatable {
    public var department: DepartmentSystem
    /// Ordered fields (CSV: in header order, every column present).
    public var fields: [SourceField]
    /// The district person (or household head) the record is about, for tests and demo servers.
    public var personIndex: Int

    public init(department: DepartmentSystem, fields: [SourceField], personIndex: Int) {
        self.department = department
        self.fields = fields
        self.personIndex = personIndex
    }

    /// The text of a top-level field, if present and textual.
    public subscript(name: String) -> String? {
        for field in fields where field.name == name {
            if case .text(let text) = field.value { return text }
            return nil
        }
        return nil
    }
}
