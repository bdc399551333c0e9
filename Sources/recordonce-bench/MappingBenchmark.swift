import Foundation
import JSON5
import Mapping
import SourceFormats

/// Applies the police mapping's compiled plan to generated records on one core, with reference
/// measurements of the same input taken in the same run.
enum MappingBenchmark {
    static func option(_ args: [String], _ name: String) -> String? {
        guard let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    /// Seconds of `body`, median of `rounds` runs: wall clock, and CPU time of this thread (the
    /// per-core figure; the build machine is shared, so wall time includes waiting for a core).
    static func median(_ rounds: Int, _ body: () -> Int) -> (seconds: Double, cpuSeconds: Double, bestCPUSeconds: Double, checksum: Int) {
        var times: [Double] = []
        var cpuTimes: [Double] = []
        var checksum = 0
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = threadCPUSeconds()
            checksum &+= body()
            cpuTimes.append(threadCPUSeconds() - cpuStart)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        cpuTimes.sort()
        return (times[times.count / 2], cpuTimes[cpuTimes.count / 2], cpuTimes[0], checksum)
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func run(_ args: [String]) -> Int32 {
        let count = Int(option(args, "records") ?? "") ?? 200_000
        let rounds = Int(option(args, "rounds") ?? "") ?? 5
        let catalog = option(args, "catalog") ?? "mappings/catalog"
        let mappingFile = option(args, "mapping") ?? "mappings/police-hukou.json5"
        let schema: MappingSchema
        let plan: MappingPlan
        do {
            schema = try MappingSchema.load(catalogDirectory: catalog)
            plan = try MappingValidator.load(file: mappingFile, schema: schema)
        } catch {
            FileHandle.standardError.write(Data("cannot load the catalog or mapping: \(error)\n".utf8))
            return 2
        }
        var generator = PoliceRecordGenerator(seed: 20261122)
        let input = generator.answer(count: count)
        print("mapping benchmark: \(count) police records, \(input.count / 1024) KiB of JSON, \(rounds) rounds (median), 1 thread")

        // Parse once for the apply measurement.
        let records = JSONRecordReader(source: ByteSource(bytes: input), recordsPath: "data.items").readAll().compactMap(\.record)
        precondition(records.count == count, "generator produced \(records.count) records")

        print("  records/s: per core = records / thread CPU time (median and best round); wall = median wall clock")
        print("  \("".padding(toLength: 46, withPad: " ", startingAt: 0))  per core (median)   per core (best)     wall")
        func report(_ label: String, _ result: (seconds: Double, cpuSeconds: Double, bestCPUSeconds: Double, checksum: Int)) {
            let cpuRate = Double(count) / result.cpuSeconds
            let bestRate = Double(count) / result.bestCPUSeconds
            let rate = Double(count) / result.seconds
            print("  \(label.padding(toLength: 46, withPad: " ", startingAt: 0)) \(String(format: "%17.0f", cpuRate)) \(String(format: "%17.0f", bestRate)) \(String(format: "%9.0f", rate))   (check \(result.checksum % 1000))")
        }

        report("apply compiled plan (parsed records)", median(rounds) {
            var produced = 0
            for record in records { produced &+= plan.apply(record).records.count }
            return produced
        })
        if args.contains("--apply-only") { return 0 }
        report("apply + render canonical JSON (fieldsJSON)", median(rounds) {
            var bytes = 0
            for record in records {
                for canonical in plan.apply(record).records { bytes &+= canonical.fieldsJSON().utf8.count }
            }
            return bytes
        })
        report("parse: SourceFormats JSONRecordReader", median(rounds) {
            JSONRecordReader(source: ByteSource(bytes: input), recordsPath: "data.items").readAll().count
        })
        report("parse + apply (end to end)", median(rounds) {
            let reader = JSONRecordReader(source: ByteSource(bytes: input), recordsPath: "data.items")
            var produced = 0
            while let item = reader.next() { if let r = item.record { produced &+= plan.apply(r).records.count } }
            return produced
        })
        report("reference: JSON5.parseJSON (strict, same bytes)", median(rounds) {
            guard let value = try? JSON5.parseJSON(input) else { return -1 }
            return value["data"]?["items"]?.arrayValue?.count ?? -1
        })
        let data = Data(input)
        report("reference: Foundation JSONSerialization", median(rounds) {
            let object = try? JSONSerialization.jsonObject(with: data)
            return ((object as? [String: Any])?["data"] as? [String: Any]).flatMap { ($0["items"] as? [Any])?.count } ?? -1
        })
        let sampleResult = records.prefix(10_000).map { plan.apply($0) }
        let rejected = sampleResult.filter(\.rejected).count
        let skipped = sampleResult.filter(\.skipped).count
        print("  first 10000 records: \(rejected) rejected, \(skipped) skipped, \(sampleResult.reduce(0) { $0 + $1.records.count }) canonical records")
        return 0
    }
}
