import Foundation

/// What went wrong writing the district's files: which file and why (never a record's values).
public struct DistrictWriteError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}

/// One written file.
public struct DistrictFileSummary: Sendable, Equatable {
    public var department: DepartmentSystem
    public var file: String
    public var records: Int
    public var bytes: Int
}

/// What `DistrictFileWriter.write` produced.
public struct DistrictWriteSummary: Sendable {
    public var files: [DistrictFileSummary]
    public var households: Int
    public var residents: Int
    public var seconds: Double
}

/// Streams every department's file for a district in one pass over its households: each
/// household is built once, its records serialized into per-file buffers that are flushed every
/// megabyte, so memory stays flat whatever the district's size. Writes `manifest.json` last.
public struct DistrictFileWriter {
    public let views: DepartmentViews

    public init(views: DepartmentViews) { self.views = views }

    /// Writes the files of `departments` into `directory` (created if missing). `progress` is
    /// called every 10,000 households with (households done, households in all).
    public func write(to directory: String, departments: [DepartmentSystem] = DepartmentSystem.allCases,
                      progress: ((Int, Int) -> Void)? = nil) throws(DistrictWriteError) -> DistrictWriteSummary {
        let started = Date()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DistrictWriteError(file: directory, reason: "cannot create the directory (\(error.localizedDescription))")
        }
        var outputs: [DepartmentOutput] = []
        for department in departments {
            outputs.append(try DepartmentOutput(department: department, path: (directory as NSString).appendingPathComponent(department.fileName)))
        }
        let district = views.district
        let total = district.householdCount
        for h in 0..<total {
            let household = district.household(h)
            for output in outputs {
                try output.append(views.records(output.department, household: household))
            }
            if let progress, (h + 1) % 10_000 == 0 || h + 1 == total { progress(h + 1, total) }
        }
        var files: [DistrictFileSummary] = []
        for output in outputs {
            files.append(try output.finish())
        }
        let summary = DistrictWriteSummary(files: files, households: total, residents: district.residents,
                                           seconds: Date().timeIntervalSince(started))
        try writeManifest(summary, directory: directory)
        return summary
    }

    private func writeManifest(_ summary: DistrictWriteSummary, directory: String) throws(DistrictWriteError) {
        var out: [UInt8] = []
        out.append(contentsOf: "{\n  \"generator\": \"recordonce district generate\",\n".utf8)
        out.append(contentsOf: "  \"seed\": \(views.district.seed),\n  \"residents\": \(summary.residents),\n  \"households\": \(summary.households),\n".utf8)
        out.append(contentsOf: "  \"referenceDay\": \"\(MessyText.date(SyntheticDistrict.referenceDay, .dashed))\",\n  \"files\": [\n".utf8)
        for (k, file) in summary.files.enumerated() {
            out.append(contentsOf: "    {\"file\": ".utf8)
            RecordEncoding.appendJSONString(file.file, to: &out)
            out.append(contentsOf: ", \"adapter\": ".utf8)
            RecordEncoding.appendJSONString(file.department.adapterID, to: &out)
            out.append(contentsOf: ", \"records\": \(file.records), \"bytes\": \(file.bytes)}\(k + 1 < summary.files.count ? "," : "")\n".utf8)
        }
        out.append(contentsOf: "  ]\n}\n".utf8)
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        guard FileManager.default.createFile(atPath: path, contents: Data(out)) else {
            throw DistrictWriteError(file: path, reason: "cannot write the manifest")
        }
    }
}

/// One department's output file: format framing, a byte buffer, and the counts.
final class DepartmentOutput {
    let department: DepartmentSystem
    let path: String
    private let handle: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    private(set) var records = 0
    private(set) var bytes = 0
    private static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    init(department: DepartmentSystem, path: String) throws(DistrictWriteError) {
        self.department = department
        self.path = path
        guard let handle = fopen(path, "wb") else {
            throw DistrictWriteError(file: path, reason: "cannot open for writing (\(String(cString: strerror(errno))))")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 21)
        try start()
    }

    deinit { fclose(handle) }

    /// Column headers of the civil affairs CSV exports, in the order the mappings' samples use.
    static func csvHeader(_ department: DepartmentSystem) -> [String] {
        switch department {
        case .civilDibao: ["户主身份证号", "户主姓名", "家庭人口", "月保障金额", "救助原因", "保障状态", "开始日期", "终止日期", "社区代码"]
        case .civilMarriage: ["登记证号", "业务类型", "男方身份证号", "男方姓名", "女方身份证号", "女方姓名", "登记日期", "登记机关"]
        case .civilDeath: ["死亡证明编号", "身份证号", "姓名", "性别", "死亡日期", "婚姻状况", "死亡地点"]
        default: []
        }
    }

    private func start() throws(DistrictWriteError) {
        switch department {
        case .socialSecurity:
            buffer.append(contentsOf: """
                <?xml version="1.0" encoding="UTF-8"?>
                <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
                  <soap:Body>
                    <queryPersonInsuranceResponse xmlns="http://si.example.gov.cn/ws">
                      <resultCode>0</resultCode>

                """.utf8)
        case .civilDibao, .civilMarriage, .civilDeath:
            try appendGB18030(RecordEncoding.csvRow(Self.csvHeader(department)))
        case .policeHukou, .healthRecords:
            break
        }
    }

    func append(_ list: [DepartmentRecord]) throws(DistrictWriteError) {
        for record in list {
            switch department {
            case .policeHukou, .healthRecords:
                RecordEncoding.appendJSON(record.fields, to: &buffer)
                buffer.append(0x0A)
            case .socialSecurity:
                RecordEncoding.appendXML(element: "AC01", record.fields, indent: "      ", to: &buffer)
            case .civilDibao, .civilMarriage, .civilDeath:
                try appendGB18030(RecordEncoding.csvRow(RecordEncoding.csvTexts(record.fields)))
            }
            records += 1
        }
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func appendGB18030(_ row: String) throws(DistrictWriteError) {
        guard let data = row.data(using: Self.gb18030) else {
            throw DistrictWriteError(file: path, reason: "row \(records + 1) cannot be encoded in GB18030")
        }
        buffer.append(contentsOf: data)
    }

    private func flush() throws(DistrictWriteError) {
        guard !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        guard written == buffer.count else {
            throw DistrictWriteError(file: path, reason: "write failed (\(String(cString: strerror(errno))))")
        }
        bytes += written
        buffer.removeAll(keepingCapacity: true)
    }

    /// Closes the format's framing and flushes; the summary of the file.
    func finish() throws(DistrictWriteError) -> DistrictFileSummary {
        if department == .socialSecurity {
            buffer.append(contentsOf: """
                      <total>\(records)</total>
                    </queryPersonInsuranceResponse>
                  </soap:Body>
                </soap:Envelope>

                """.utf8)
        }
        try flush()
        guard fflush(handle) == 0 else { throw DistrictWriteError(file: path, reason: "flush failed") }
        return DistrictFileSummary(department: department, file: (path as NSString).lastPathComponent, records: records, bytes: bytes)
    }
}
