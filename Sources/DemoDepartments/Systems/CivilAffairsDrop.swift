import Foundation
import Telemetry

/// Civil affairs (民政), which drops GB18030 CSV exports into a folder per register: the
/// subsistence allowance roster (`civil-dibao/`), marriage registrations (`civil-marriage/`)
/// and death registrations (`civil-death/`). At start each folder gets the full export; then
/// every `interval` seconds the registrations made meanwhile are dropped as a new file.
///
/// A file is written as `NAME.tmp`, renamed to `NAME` (`<register>-<yyyyMMddHHmmssSSS>-<n>.csv`,
/// so names sort in time order) and then marked complete with an empty `NAME.done`.
public final class CivilAffairsDrop: @unchecked Sendable {
    public let root: String
    public let faults = DemoFaults()
    let interval: Double
    let logger: Logger
    private let lock = NSLock()
    private let wake = NSCondition()
    private var pending: [DepartmentSystem: [DepartmentRecord]] = [:]
    private var sequence = 0
    private var stopping = false
    private var dropped = 0

    public static let registers: [DepartmentSystem] = [.civilDibao, .civilMarriage, .civilDeath]
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    init(root: String, interval: Double, logger: Logger) {
        self.root = root
        self.interval = interval
        self.logger = logger
    }

    /// The folder the register's adapter watches.
    public func folder(for register: DepartmentSystem) -> String {
        (root as NSString).appendingPathComponent(register.adapterID)
    }

    /// Files dropped so far.
    public var droppedFiles: Int { lock.withLock { dropped } }

    func createFolders() throws {
        for register in Self.registers {
            try FileManager.default.createDirectory(atPath: folder(for: register), withIntermediateDirectories: true)
        }
    }

    /// Queues a registration for the next drop.
    func queue(_ record: DepartmentRecord) {
        lock.withLock { pending[record.department, default: []].append(record) }
    }

    /// Writes `records` as one complete file now (a fault may change how); returns its path.
    @discardableResult
    public func drop(_ register: DepartmentSystem, _ records: [DepartmentRecord]) throws -> String {
        let header = DepartmentOutput.csvHeader(register)
        var text = RecordEncoding.csvRow(header)
        for record in records { text += RecordEncoding.csvRow(RecordEncoding.csvTexts(record.fields)) }
        var bytes: [UInt8]
        switch faults.take() {
        case .wrongEncoding?:
            bytes = Array(text.utf8)
        case .notWellFormed?, .truncatedBody?:
            bytes = [0xFF, 0xFE, 0xFF, 0x00, 0x81, 0x20] + Array(repeating: 0xFF, count: 64)   // not GB18030, not UTF-8, not text
        default:
            guard let data = text.data(using: Self.gb18030) else { throw CocoaError(.fileWriteInapplicableStringEncoding) }
            bytes = Array(data)
        }
        let name: String = lock.withLock {
            sequence += 1
            dropped += 1
            let stamp = ChangeClock.spaced(Int64(Date().timeIntervalSince1970 * 1000)).filter(\.isNumber)
            return "\(register.adapterID)-\(stamp)-\(String(format: "%04d", sequence)).csv"
        }
        let path = (folder(for: register) as NSString).appendingPathComponent(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path + ".tmp"))
        try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
        FileManager.default.createFile(atPath: path + ".done", contents: Data())
        return path
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "demo-civil-affairs"
        thread.start()
    }

    func stop() {
        wake.lock()
        stopping = true
        wake.broadcast()
        wake.unlock()
    }

    /// Drops every queued registration now (one file per register that has some).
    public func flush() {
        let batches: [DepartmentSystem: [DepartmentRecord]] = lock.withLock {
            defer { pending.removeAll() }
            return pending
        }
        for register in Self.registers {
            guard let records = batches[register], !records.isEmpty else { continue }
            do { try drop(register, records) } catch {
                logger.warning("civil affairs could not drop a file", ["register": register.adapterID, "error": "\(error)"])
            }
        }
    }

    private func run() {
        while true {
            wake.lock()
            if !stopping { _ = wake.wait(until: Date(timeIntervalSinceNow: interval)) }
            let done = stopping
            wake.unlock()
            if done { return }
            flush()
        }
    }
}
