import CLIKit
import DemoDepartments
import Foundation

let districtCommand = Command(
    "district",
    abstract: "The synthetic demo district and its departments' data.",
    subcommands: [districtGenerateCommand]
)

let districtGenerateCommand = Command(
    "generate",
    abstract: "Write every department's file for a synthetic district (default: Chenghua, 1.54 million residents).",
    discussion: """
    Deterministic: the same seed and size give byte-identical files. Writes police-hukou.ndjson,
    social-security.xml, health-records.ndjson, civil-dibao.csv, civil-marriage.csv and
    civil-death.csv (GB18030), each readable by the mapping of the same name, and manifest.json
    (file -> adapter -> records). Load one with `recordonce import <adapter> <file>`.
    Progress goes to stderr, the summary to stdout. See docs/district.md.
    """,
    options: [
        Option("out", value: "DIR", help: "Directory to write the files into (created if missing)."),
        Option("residents", value: "N", help: "Number of residents.", default: "1540000"),
        Option("seed", value: "N", help: "Random seed (an unsigned 64-bit number).", default: "510108"),
        Option.flag("clean", help: "No messiness: every record in its system's usual shape (all accepted)."),
    ]
) { args in
    guard let out = args.value("out"), !out.isEmpty else { throw UsageError("--out DIR is required") }
    guard let residents = try args.int("residents"), (1..<10_000_000).contains(residents) else {
        throw UsageError("--residents must be between 1 and 9999999")
    }
    guard let seedText = args.value("seed"), let seed = UInt64(seedText) else {
        throw UsageError("--seed must be an unsigned 64-bit number")
    }
    let started = Date()
    let district = SyntheticDistrict(seed: seed, residents: residents)
    FileHandle.standardError.write(Data(String(format: "district: %d residents in %d households laid out in %.1f s\n",
                                               residents, district.householdCount, Date().timeIntervalSince(started)).utf8))
    let views = DepartmentViews(district: district, messiness: args.flag("clean") ? .none : .realistic)
    let terminal = isatty(STDERR_FILENO) == 1
    var lastReport = Date.distantPast
    let summary: DistrictWriteSummary
    do {
        summary = try DistrictFileWriter(views: views).write(to: out) { done, total in
            let now = Date()
            guard done == total || now.timeIntervalSince(lastReport) >= (terminal ? 0.2 : 5) else { return }
            lastReport = now
            let line = String(format: "district: %d/%d households (%.0f%%)", done, total, Double(done) * 100 / Double(total))
            FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + line + (terminal && done < total ? "" : "\n")).utf8))
        }
    } catch {
        CommandLineRunner.printError("\(error)")
        return ExitCode.failure
    }
    print(String(format: "district %@: seed %llu, %d residents, %d households, written in %.1f s",
                 out, seed, summary.residents, summary.households, Date().timeIntervalSince(started)))
    var totalBytes = 0
    for file in summary.files {
        totalBytes += file.bytes
        print("  \(file.file.padding(toLength: 24, withPad: " ", startingAt: 0)) \(file.department.adapterID.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(file.records).leftPadded(9)) records \(formatBytes(file.bytes).leftPadded(10))")
    }
    print("  manifest.json            total \(formatBytes(totalBytes))")
    return ExitCode.success
}

private func formatBytes(_ bytes: Int) -> String {
    if bytes >= 1 << 30 { return String(format: "%.2f GB", Double(bytes) / Double(1 << 30)) }
    if bytes >= 1 << 20 { return String(format: "%.1f MB", Double(bytes) / Double(1 << 20)) }
    if bytes >= 1 << 10 { return String(format: "%.1f KB", Double(bytes) / 1024) }
    return "\(bytes) B"
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
