import Foundation
import JSON5
import SourceFormats

/// The settings of a `csv-drop` pull: a folder a department drops CSV exports into.
///
/// ```json5
/// pull: {
///   kind: "csv-drop", every: "30s",
///   folder: "/var/lib/recordonce/drop/civil-death",  // relative paths: from the declaration's folder
///   pattern: "*.csv",
///   encoding: "detect",            // or "gb18030" / "utf-8" when the department declares it
///   mappingEncoding: "gb18030",    // what the adapter's mapping reads (its source.csv.encoding)
///   delimiter: ",", header: true,
///   complete: "marker",            // take a file once NAME.done exists; or "stable" (default)
///   stableSeconds: 5,
/// }
/// ```
struct CSVDropSettings: Sendable {
    enum Completion: String, Sendable {
        /// A file is complete once `<name>.done` exists beside it.
        case marker
        /// A file is complete once it has not changed (size and modification time) for `stableSeconds`.
        case stable
    }

    var folder: String
    /// `*.csv`, `death-*.csv`: one `*` at most.
    var pattern: String
    /// nil: detect (BOM, then valid UTF-8, else GB18030).
    var encoding: TextEncoding?
    var mappingEncoding: TextEncoding
    var delimiter: UInt8
    var header: Bool
    var completion: Completion
    var stableSeconds: Double
    var doneFolder: String
    var failedFolder: String
    /// Larger files are set aside: one file is one page, stored in one transaction.
    var maxFileBytes: Int

    static let keys: Set<String> = ["folder", "pattern", "encoding", "mappingEncoding", "delimiter", "header", "complete",
                                    "stableSeconds", "doneFolder", "failedFolder", "maxFileBytes"]
    static let markerSuffix = ".done"

    static func read(_ settings: inout PullSettingsReader) -> CSVDropSettings? {
        let folder = settings.string("folder", required: true)
        let pattern = settings.string("pattern") ?? "*.csv"
        if pattern.filter({ $0 == "*" }).count > 1 || pattern.contains("/") {
            settings.problem(settings.root["pattern"], settings.path("pattern"), "must be a file name with at most one * (e.g. \"*.csv\")")
        }
        var encoding: TextEncoding?
        if let name = settings.string("encoding"), name != "detect" {
            encoding = TextEncoding(name: name)
            if encoding == nil { settings.problem(settings.root["encoding"], settings.path("encoding"), "must be detect, utf-8 or gb18030") }
        }
        var mappingEncoding = TextEncoding.utf8
        if let name = settings.string("mappingEncoding") {
            if let parsed = TextEncoding(name: name) { mappingEncoding = parsed } else {
                settings.problem(settings.root["mappingEncoding"], settings.path("mappingEncoding"), "must be utf-8 or gb18030")
            }
        }
        var delimiter = UInt8(ascii: ",")
        if let text = settings.string("delimiter") {
            let value = text == "\\t" ? "\t" : text
            if value.utf8.count == 1, let byte = value.utf8.first, byte < 0x80, byte != UInt8(ascii: "\""), byte != 0x0A, byte != 0x0D {
                delimiter = byte
            } else {
                settings.problem(settings.root["delimiter"], settings.path("delimiter"), "must be one ASCII character other than a quote or line break (\",\", \";\", \"\\t\", \"|\")")
            }
        }
        let header = settings.bool("header", default: true)
        let completion = CSVDropSettings.Completion(rawValue: settings.choice("complete", ["marker", "stable"], default: "stable")) ?? .stable
        let stableSeconds = settings.seconds("stableSeconds", default: 5, in: 0...86_400)
        let done = settings.string("doneFolder") ?? "done"
        let failed = settings.string("failedFolder") ?? "failed"
        for (key, value) in [("doneFolder", done), ("failedFolder", failed)] where value.contains("/") || value.hasPrefix(".") {
            settings.problem(settings.root[key], settings.path(key), "must be a plain sub-folder name")
        }
        let maxFileBytes = settings.int("maxFileBytes", default: 256 << 20, in: 1...(4 << 30))
        guard let folder else { return nil }
        return CSVDropSettings(folder: folder, pattern: pattern, encoding: encoding, mappingEncoding: mappingEncoding,
                               delimiter: delimiter, header: header, completion: completion, stableSeconds: stableSeconds,
                               doneFolder: done, failedFolder: failed, maxFileBytes: maxFileBytes)
    }

    /// Whether a file name matches `pattern`.
    func matches(_ name: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return name == pattern }
        let prefix = pattern[..<star], suffix = pattern[pattern.index(after: star)...]
        return name.count >= prefix.count + suffix.count && name.hasPrefix(prefix) && name.hasSuffix(suffix)
    }
}
