/// A national (or hub-defined) code table: codes as strings ("01"), each with its Chinese label.
public struct CodeTable: Sendable {
    /// The name fields refer to in `code(name)`.
    public var name: String
    public var title: LocalizedText
    /// The standard the codes come from (`GB/T 2261.1-2003`), or a note that the table is hub-defined.
    public var source: String
    public private(set) var entries: [Entry]
    public var file: String

    private var codeIndex: [String: Int]
    private var labelIndex: [String: Int]
    /// When every code has the same length and is all digits: that length (for restoring stripped leading zeros).
    private var numericWidth: Int?

    /// One code and its label.
    public struct Entry: Sendable, Hashable {
        public var code: String
        /// The Chinese label as the standard writes it.
        public var label: String
        /// An English label, when the data file gives one.
        public var english: String?

        public init(code: String, label: String, english: String? = nil) {
            self.code = code
            self.label = label
            self.english = english
        }
    }

    public init(name: String, title: LocalizedText, source: String = "", entries: [Entry], file: String = "") {
        self.name = name
        self.title = title
        self.source = source
        self.entries = entries
        self.file = file
        codeIndex = Dictionary(entries.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { first, _ in first })
        labelIndex = Dictionary(entries.enumerated().map { ($1.label, $0) }, uniquingKeysWith: { first, _ in first })
        let widths = Set(entries.map(\.code.utf8.count))
        let allDigits = entries.allSatisfy { $0.code.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        numericWidth = widths.count == 1 && allDigits ? widths.first : nil
    }

    /// Whether `code` is one of the table's codes (exact match).
    public func contains(_ code: String) -> Bool { codeIndex[code] != nil }

    /// The Chinese label of a code.
    public func label(for code: String) -> String? { codeIndex[code].map { entries[$0].label } }

    /// The code whose Chinese label is exactly `label`.
    public func code(forLabel label: String) -> String? { labelIndex[label].map { entries[$0].code } }

    /// The table's code for a value as departments send it: exact code, or the same code after
    /// width folding and trimming, or with the leading zeros a spreadsheet stripped put back
    /// (`1` -> `01` in a two-digit table). Nil when none matches.
    public func normalizedCode(_ value: String) -> String? {
        if codeIndex[value] != nil { return value }
        let folded = TextNormalizer.fold(value)
        if codeIndex[folded] != nil { return folded }
        if let width = numericWidth, folded.utf8.count < width, !folded.isEmpty,
           folded.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        {
            let padded = String(repeating: "0", count: width - folded.utf8.count) + folded
            if codeIndex[padded] != nil { return padded }
        }
        return nil
    }
}
