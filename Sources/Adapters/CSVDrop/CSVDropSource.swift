import Foundation
import SourceFormats

/// Takes complete CSV files from a drop folder, one file per page, oldest name first.
///
/// A file's page checkpoint is its name; after the page is stored (`didStore`) the file and its
/// marker move to `done/`. A file whose name equals the checkpoint is one that was stored but
/// not yet moved (a crash between the two): it moves to `done/` without being read again. A file
/// that cannot be read at all (not in its declared encoding, not CSV) moves to `failed/` with a
/// `<name>.reason.txt` beside it, and the run stops with a retriable failure saying so; the next
/// run goes on with the following files.
final class CSVDropSource: PullSource, @unchecked Sendable {
    let settings: CSVDropSettings
    let folder: String
    private let lock = NSLock()
    private let files = FileManager.default

    init(settings: CSVDropSettings, context: PullContext) {
        self.settings = settings
        folder = resolvePath(settings.folder, base: context.baseDirectory)
    }

    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? {
        lock.lock()
        defer { lock.unlock() }
        let names: [String]
        do {
            names = try files.contentsOfDirectory(atPath: folder).filter(isCandidate).sorted()
        } catch {
            throw PullFailure(.retriable, "drop folder \(folder) cannot be read")
        }
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            if name == checkpoint {
                try move(path, to: settings.doneFolder)
                continue
            }
            guard isComplete(path) else { return nil }   // keep the order: later files wait for this one
            if let size = (try? files.attributesOfItem(atPath: path))?[.size] as? Int, size > settings.maxFileBytes {
                let reason = CSVDropFileError("is \(size) bytes, more than pull.maxFileBytes (\(settings.maxFileBytes)); load it with recordonce import")
                try fail(path, name: name, reason: reason)
                throw PullFailure(.retriable, "\(name): \(reason); moved to \(settings.failedFolder)/ with a reason file")
            }
            guard let bytes = files.contents(atPath: path).map(Array.init) else {
                throw PullFailure(.retriable, "\(name): cannot be read yet")
            }
            switch body(bytes, name: name) {
            case .success(let body):
                return PulledPage(body: body, name: name, checkpoint: name, token: path)
            case .failure(let reason):
                try fail(path, name: name, reason: reason)
                throw PullFailure(.retriable, "\(name): \(reason); moved to \(settings.failedFolder)/ with a reason file")
            }
        }
        return nil
    }

    func didStore(_ page: PulledPage) throws(PullFailure) {
        guard let path = page.token else { return }
        lock.lock()
        defer { lock.unlock() }
        try move(path, to: settings.doneFolder)
    }

    // MARK: choosing files

    private func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(CSVDropSettings.markerSuffix) && !name.hasSuffix(".tmp") && !name.hasSuffix(".part")
            && !name.hasSuffix(".reason.txt") && settings.matches(name)
            && !isDirectory((folder as NSString).appendingPathComponent(name))
    }

    private func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return files.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// Marker: `<name>.done` exists. Stable: unchanged for `stableSeconds`, and still the same size
    /// when looked at twice.
    private func isComplete(_ path: String) -> Bool {
        switch settings.completion {
        case .marker:
            return files.fileExists(atPath: path + CSVDropSettings.markerSuffix)
        case .stable:
            guard let first = try? files.attributesOfItem(atPath: path),
                  let modified = first[.modificationDate] as? Date, let size = first[.size] as? Int else { return false }
            guard Date().timeIntervalSince(modified) >= settings.stableSeconds else { return false }
            guard let second = try? files.attributesOfItem(atPath: path) else { return false }
            return second[.size] as? Int == size && second[.modificationDate] as? Date == modified
        }
    }

    // MARK: reading

    /// The file in the mapping's encoding, or why it cannot be read at all.
    func body(_ bytes: [UInt8], name: String) -> Result<[UInt8], CSVDropFileError> {
        var content = bytes[...]
        if content.starts(with: [0xEF, 0xBB, 0xBF]) {
            if settings.encoding == .gb18030 { return .failure(CSVDropFileError("declared GB18030 but starts with a UTF-8 byte order mark")) }
            content = content.dropFirst(3)
        }
        let ascii = !content.contains { $0 >= 0x80 }
        let utf8 = ascii || String(validating: content, as: UTF8.self) != nil
        let encoding: TextEncoding
        switch settings.encoding {
        case .utf8?:
            guard utf8 else { return .failure(CSVDropFileError("declared UTF-8 but is not valid UTF-8 (first bad byte at offset \(firstInvalidUTF8(content)))")) }
            encoding = .utf8
        case .gb18030?:
            if !ascii && utf8 { return .failure(CSVDropFileError("declared GB18030 but the file is UTF-8 (wrong encoding)")) }
            encoding = .gb18030
        case nil:
            encoding = utf8 ? .utf8 : .gb18030
        }
        if encoding == settings.mappingEncoding || ascii {
            if encoding == .gb18030, !ascii, TextEncoding.gb18030.decode(content) == nil {
                return .failure(CSVDropFileError("is not valid GB18030\(settings.encoding == nil ? " nor UTF-8" : "")"))
            }
            return check(Array(content), encoding: settings.mappingEncoding)
        }
        guard let text = encoding.decode(content) else {
            return .failure(CSVDropFileError("is not valid \(encoding == .gb18030 ? "GB18030" : "UTF-8")\(settings.encoding == nil ? " nor UTF-8" : "")"))
        }
        let converted: [UInt8]
        switch settings.mappingEncoding {
        case .utf8: converted = Array(text.utf8)
        case .gb18030:
            guard let data = text.data(using: String.Encoding(rawValue: 0x8000_0632)) else {
                return .failure(CSVDropFileError("cannot be converted to GB18030"))
            }
            converted = Array(data)
        }
        return check(converted, encoding: settings.mappingEncoding)
    }

    /// A file is unreadable when it has rows but not one of them reads as CSV with these options.
    private func check(_ bytes: [UInt8], encoding: TextEncoding) -> Result<[UInt8], CSVDropFileError> {
        let reader = CSVRecordReader(source: ByteSource(bytes: bytes, name: "check"),
                                     options: CSVOptions(delimiter: settings.delimiter, hasHeader: settings.header, encoding: encoding))
        var records = 0, errors = 0
        var firstError: String?
        while let item = reader.next(), records == 0 {
            if item.record != nil { records += 1 } else {
                errors += 1
                if firstError == nil, let error = item.error { firstError = "\(error)" }
            }
        }
        if records == 0 && errors > 0 {
            return .failure(CSVDropFileError("no row reads as CSV with delimiter '\(Character(UnicodeScalar(settings.delimiter)))' (\(firstError ?? "unreadable"))"))
        }
        return .success(bytes)
    }

    private func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        var low = 0, high = bytes.count
        while low < high {   // the longest valid prefix, by bisection (a cut sequence counts as invalid)
            let mid = (low + high + 1) / 2
            if String(validating: bytes.prefix(mid), as: UTF8.self) != nil { low = mid } else { high = mid - 1 }
        }
        return low
    }

    // MARK: moving files

    private func move(_ path: String, to subfolder: String) throws(PullFailure) {
        let target = (folder as NSString).appendingPathComponent(subfolder)
        let name = (path as NSString).lastPathComponent
        do {
            try files.createDirectory(atPath: target, withIntermediateDirectories: true)
            var destination = (target as NSString).appendingPathComponent(name)
            if files.fileExists(atPath: destination) {
                destination += "." + String(Int(Date().timeIntervalSince1970 * 1000))
            }
            try files.moveItem(atPath: path, toPath: destination)
            if files.fileExists(atPath: path + CSVDropSettings.markerSuffix) {
                try? files.removeItem(atPath: destination + CSVDropSettings.markerSuffix)
                try files.moveItem(atPath: path + CSVDropSettings.markerSuffix, toPath: destination + CSVDropSettings.markerSuffix)
            }
        } catch {
            throw PullFailure(.retriable, "\(name): cannot move to \(subfolder)/ (\(error.localizedDescription))")
        }
    }

    private func fail(_ path: String, name: String, reason: CSVDropFileError) throws(PullFailure) {
        try move(path, to: settings.failedFolder)
        let reasonPath = ((folder as NSString).appendingPathComponent(settings.failedFolder) as NSString)
            .appendingPathComponent(name + ".reason.txt")
        let text = "\(name): \(reason.message)\nmoved here by adapter pull at \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = files.createFile(atPath: reasonPath, contents: Data(text.utf8))
    }
}

/// Why a dropped file cannot be read at all (never its content).
struct CSVDropFileError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
