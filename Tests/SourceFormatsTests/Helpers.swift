@testable import SourceFormats

func source(_ text: String, name: String = "t") -> ByteSource { ByteSource(bytes: Array(text.utf8), name: name) }

extension Array where Element == SourceReadItem {
    var records: [SourceRecord] { compactMap(\.record) }
    var errors: [SourceFormatError] { compactMap(\.error) }
}

extension SourceRecord {
    func text(_ key: String) -> String? { fields[key]?.scalarText }
}
