// recordonce-bench: throughput benchmarks (run in release: `swift run -c release recordonce-bench mapping`).
// Figures and their setup go to docs/benchmarks.md.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "mapping":
    exit(MappingBenchmark.run(Array(arguments.dropFirst())))
case "import":
    exit(ImportBenchmark.run(Array(arguments.dropFirst())))
case "feed":
    exit(FeedBenchmark.run(Array(arguments.dropFirst())))
case "matching":
    exit(MatchingQualityBenchmark.run(Array(arguments.dropFirst())))
default:
    print("""
    usage: recordonce-bench <benchmark> [options]

    Benchmarks (build with -c release):
      mapping [--records N] [--rounds R] [--catalog DIR] [--mapping FILE]
          Apply the police household register mapping to N generated police records on one core,
          beside reference measurements of the same input: record parsing (SourceFormats),
          Foundation JSONSerialization, the JSON5 module's strict parser. Defaults: 200000 records,
          5 rounds (the median is reported), mappings/catalog, mappings/police-hukou.json5.
      \(ImportBenchmark.usage)
      \(FeedBenchmark.usage)
      \(MatchingQualityBenchmark.usage)
    """)
    exit(arguments.isEmpty || arguments.first == "--help" ? 0 : 2)
}
