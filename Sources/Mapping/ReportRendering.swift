import SourceFormats

extension MappingProblem {
    /// The problem as a JSON object (for `--format json`).
    public func jsonText() -> String {
        var out = "{\"file\":"
        JSONStringEscaper.append(file, to: &out)
        if let position { out += ",\"line\":\(position.line),\"column\":\(position.column)" }
        out += ",\"path\":"; JSONStringEscaper.append(path, to: &out)
        out += ",\"rule\":"; JSONStringEscaper.append(rule, to: &out)
        out += ",\"severity\":\"\(severity.rawValue)\",\"message\":"; JSONStringEscaper.append(message, to: &out)
        return out + "}"
    }
}

extension MappingTestRunner.FileResult {
    /// `PASS`/`FAIL` per case with a diff under each failure, then problems.
    public func text() -> String {
        var out = "\(testsFile) (mapping \(mappingFile))\n"
        for p in problems { out += "  \(p)\n" }
        for c in cases {
            out += "  \(c.passed ? "PASS" : "FAIL") \(c.name) (line \(c.line))\n"
            for line in c.diff { out += "      \(line)\n" }
        }
        if problems.isEmpty { out += "  \(cases.count - failed) passed, \(failed) failed\n" }
        return out
    }
}
