import CLIKit
import Foundation
import Hub
import Mapping
import SourceFormats

private let catalogOption = Option("catalog", value: "DIR", help: "Catalog folder (resources, code tables).",
                                   environment: "RECORDONCE_CATALOG_DIR", default: "mappings/catalog")

/// `recordonce mapping validate|test`: check mappings before they go live.
let mappingCommand = Command(
    "mapping",
    abstract: "Validate mappings and run their tests.",
    discussion: """
    A mapping (mappings/<source>.json5) turns one department's records into canonical records.
    The file format is documented in docs/mappings.md.
    """,
    subcommands: [mappingValidateCommand, mappingTestCommand, mappingReplayCommand]
)

let mappingValidateCommand = Command(
    "validate",
    abstract: "Check a mapping against the catalog, then dry-run it over a sample.",
    discussion: """
    Reports every problem at once with file:line:column and field path: unknown keys and
    transforms, targets missing from the catalog, type mismatches, crosswalk codes that are not in
    the code table, unmapped identity keys and required fields, malformed JSON5.
    With --sample, the mapping is applied to a sample file in the mapping's source format (JSON,
    NDJSON, CSV in UTF-8 or GB18030, XML): records read/accepted/rejected, rejections by field and
    rule with example positions, per-field fill share and code distributions. Values are masked
    unless --show-values. Exit status: 0 clean, 2 errors (mapping problems, unreadable sample).
    """,
    options: [
        Option("sample", value: "DATA", help: "Sample file to dry-run the mapping over."),
        Option("format", value: "FORMAT", help: "Output format.", default: "text", choices: ["text", "json"]),
        .flag("show-values", help: "Show record values in the dry-run report (they are masked otherwise)."),
        catalogOption,
    ],
    arguments: [Argument("file", help: "The mapping file (JSON5).")]
) { args in
    let file = args.positional(0)!
    let schema: MappingSchema
    do { schema = try MappingSchema.load(catalogDirectory: args.value("catalog")!) } catch {
        CommandLineRunner.printError("the catalog cannot be loaded:\n\(error)")
        return ExitCode.usage
    }
    let json = args.value("format") == "json"
    let problems = MappingValidator.validate(file: file, schema: schema)
    let hasErrors = problems.contains { $0.severity == .error }
    var report: DryRunReport?
    var sampleError: String?
    if !hasErrors, let sample = args.value("sample") {
        do {
            let plan = try MappingValidator.load(file: file, schema: schema)
            let reader = try SourceReaders.open(path: sample, options: plan.source.readOptions)
            report = DryRunReport.run(plan: plan, reader: reader, sample: sample, showValues: args.flag("show-values"))
        } catch let error as SourceFormatError {
            sampleError = error.description
        } catch {
            sampleError = String(describing: error)
        }
    }
    if json {
        var out = "{\"file\":"
        JSONStringEscaper.append(file, to: &out)
        out += ",\"problems\":[" + problems.map { $0.jsonText() }.joined(separator: ",") + "]"
        if let report { out += ",\"dryRun\":" + report.json() }
        if let sampleError { out += ",\"sampleError\":"; JSONStringEscaper.append(sampleError, to: &out) }
        print(out + "}")
    } else {
        for p in problems { print(p) }
        let errors = problems.filter { $0.severity == .error }.count
        print(errors == 0 ? "\(file): mapping is valid (\(problems.count) warning(s))" : "\(file): \(errors) error(s), \(problems.count - errors) warning(s)")
        if let sampleError { print("sample: \(sampleError)") }
        if let report { print("\n" + report.text(), terminator: "") }
    }
    return hasErrors || sampleError != nil ? ExitCode.usage : ExitCode.success
}

let mappingTestCommand = Command(
    "test",
    abstract: "Run mapping tests (<source>.tests.json5): input records and their expected canonical output.",
    discussion: """
    With no FILE, runs every mappings/*.tests.json5. A FILE may be a tests file or a mapping (its
    sibling .tests.json5 is run). Each failing case shows a diff: '-' expected, '+' actual.
    Exit status: 0 all passed, 1 a case failed, 2 a tests file or its mapping is invalid.
    """,
    options: [catalogOption, Option("mappings", value: "DIR", help: "Folder searched when no FILE is given.", default: "mappings")],
    arguments: [Argument("file", help: "Tests files or mappings.", optional: true, variadic: true)]
) { args in
    let schema: MappingSchema
    do { schema = try MappingSchema.load(catalogDirectory: args.value("catalog")!) } catch {
        CommandLineRunner.printError("the catalog cannot be loaded:\n\(error)")
        return ExitCode.usage
    }
    var files = args.positionals.map { $0.hasSuffix(".tests.json5") ? $0 : MappingTestRunner.testsFile(for: $0) }
    if files.isEmpty {
        let dir = args.value("mappings")!
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        files = names.filter { $0.hasSuffix(".tests.json5") }.sorted().map { "\(dir)/\($0)" }
        if files.isEmpty {
            CommandLineRunner.printError("no *.tests.json5 files in \(dir)")
            return ExitCode.usage
        }
    }
    let runner = MappingTestRunner(schema: schema)
    var invalid = false, failed = 0, passed = 0
    for file in files {
        let result = runner.run(testsFile: file)
        print(result.text(), terminator: "")
        invalid = invalid || !result.problems.isEmpty
        failed += result.failed
        passed += result.cases.count - result.failed
    }
    print("\(files.count) file(s): \(passed) passed, \(failed) failed\(invalid ? ", some files invalid" : "")")
    return invalid ? ExitCode.usage : failed > 0 ? ExitCode.failure : ExitCode.success
}

let mappingReplayCommand = Command(
    "replay",
    abstract: "Re-apply an adapter's current mapping to the records it delivered before (after a mapping fix).",
    discussion: """
    The hub keeps the source content of every accepted record. After a mapping change (a fixed
    crosswalk, a field it missed), replay maps those records again with the adapter's current
    mapping (the newest published version, else its file) and stores them as fresh records would
    be: survivorship and conflicts apply, change events are emitted only where a golden value
    really changes, and provenance names the new mapping version. Run --dry-run first: it counts,
    per resource and field, the golden values that differ from what the mapping now gives (no
    values shown). A replay stopped by a crash or restart resumes after the last batch it
    finished when run again with the same mapping version. POST /v1/adapters/{id}/replay does
    the same on a running hub. Exit status: 0 done, 1 failure, 2 usage error.
    """,
    options: [.flag("dry-run", help: "Only report what would change, per resource and field."),
              Option("purge-before", value: "DATE", help: "Instead of replaying, remove the adapter's kept content stored before DATE (YYYY-MM-DD, UTC); "
                     + "by default it is kept as long as the golden records it fed.")]
        + HubOptions.database + HubOptions.content + HubOptions.logging,
    arguments: [Argument("adapter", help: "The adapter whose records are replayed.")]
) { args in
    let logger = HubOptions.logger(args, label: "replay")
    let adapterID = args.positional(0)!
    let (replayer, close) = try Replayer.offline(try HubOptions.configuration(args), logger: logger)
    defer { close() }
    if let day = args.value("purge-before") {
        guard day.range(of: "^\\d{4}-\\d{2}-\\d{2}$", options: .regularExpression) != nil else {
            throw UsageError("--purge-before must be a date YYYY-MM-DD, got \(day)")
        }
        let removed = try replayer.content.purge(adapterID: adapterID, before: day)
        print("\(adapterID): removed \(removed.batches) stored batch(es), \(removed.records) record(s) kept before \(day); they can no longer be replayed")
        return ExitCode.success
    }
    if args.flag("dry-run") {
        let report = try replayer.dryRun(adapterID: adapterID)
        print("\(adapterID): dry run with mapping \(report.mapping) version \(report.version)")
        print("  landed records \(report.records): accepted \(report.accepted), rejected \(report.rejected), new golden records \(report.newRecords)")
        if report.changes.isEmpty { print("  no golden value would change") }
        for key in report.changes.keys.sorted() { print("  \(key): \(report.changes[key]!) golden value(s) differ") }
        return ExitCode.success
    }
    let result = try replayer.replay(adapterID: adapterID) { progress in
        if progress.batches % 50 == 0 { logger.info("replaying", ["batches": String(progress.batches), "records": String(progress.records)]) }
    }
    print("\(adapterID): replayed \(result.records) records in \(result.batches) batches with mapping \(result.mapping) version \(result.version)"
          + "\(result.resumed ? " (resumed)" : ""); change events \(result.events)")
    return ExitCode.success
}
