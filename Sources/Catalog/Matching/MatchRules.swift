import JSON5

/// How records of a resource that arrive without a usable identity key are matched to existing
/// entities: blocking keys find candidates through an index, scoring rules weigh each candidate.
///
/// ```json5
/// matching: {
///   blocking: [['name', 'date_of_birth'], ['mobile']],
///   rules: [{ field: 'name', compare: 'name', weight: 0.35 }, { field: 'sex', weight: 0.1 }],
///   nameVariants: 'name_variants',
/// }
/// ```
public struct MatchRules: Sendable {
    /// One blocking key: the fields whose normalized values, all present, find candidates.
    public struct Blocking: Sendable {
        public var fields: [String]
        public var position: SourcePosition?
        /// The rule's name in provenance and cases: its fields joined by "+".
        public var name: String { fields.joined(separator: "+") }
    }

    /// How a scoring rule compares the two values.
    public enum Comparison: String, Sendable, CaseIterable {
        /// Equal after width folding and trimming.
        case exact
        /// Equal after name normalization (width, spaces, middle dots), or through the name variant table.
        case name
    }

    /// One scoring rule: agreement adds its weight, disagreement subtracts it, a missing side counts nothing.
    public struct Rule: Sendable {
        public var field: String
        public var comparison: Comparison
        public var weight: Double
        public var position: SourcePosition?
    }

    public var blocking: [Blocking]
    public var rules: [Rule]
    /// A code table whose codes are variant characters and whose labels are the standard form
    /// (traditional -> simplified), applied to names before they are compared or blocked.
    public var nameVariants: String?
    public var position: SourcePosition?

    public init(blocking: [Blocking], rules: [Rule], nameVariants: String?, position: SourcePosition?) {
        self.blocking = blocking
        self.rules = rules
        self.nameVariants = nameVariants
        self.position = position
    }

    /// Every field the rules read.
    public var fields: Set<String> { Set(blocking.flatMap(\.fields) + rules.map(\.field)) }
}

/// One rule's verdict on a candidate.
public enum RuleAgreement: String, Sendable {
    case agree
    /// Agrees only through the name variant table.
    case variant
    case disagree
    /// One side has no value: neither for nor against.
    case missing
}

/// Match rules bound to the code tables they use: normalizes values, builds blocking keys and
/// scores candidates. Pure and deterministic.
public struct Matcher: Sendable {
    public let rules: MatchRules
    /// Variant character -> standard character.
    let variants: [Character: Character]
    /// The same table keyed by the variant's one scalar, for `standardName`'s fast path.
    let scalarVariants: [UInt32: Character]

    public init(rules: MatchRules, catalog: Catalog) {
        self.rules = rules
        var table: [Character: Character] = [:]
        if let name = rules.nameVariants, let codes = catalog.codeTable(name) {
            for entry in codes.entries where entry.code.count == 1 && entry.label.count == 1 {
                table[entry.code.first!] = entry.label.first!
            }
        }
        variants = table
        var byScalar: [UInt32: Character] = [:]
        for (variant, standard) in table where variant.unicodeScalars.count == 1 {
            byScalar[variant.unicodeScalars.first!.value] = standard
        }
        scalarVariants = byScalar
    }

    /// Width-folded, trimmed text.
    public static func plain(_ value: String) -> String {
        TextNormalizer.fold(value).trimmingCharactersInSpaces()
    }

    /// A name without width differences, spaces or middle dots (`·`, `•`, `．`).
    public static func normalizedName(_ value: String) -> String {
        String(TextNormalizer.fold(value).filter { !$0.isWhitespace && !"·•.．・".contains($0) })
    }

    /// The name with each variant character replaced by its standard form.
    public func standardName(_ value: String) -> String {
        // Names are nearly always CJK ideographs and printable ASCII, where every scalar is a
        // character of its own: filter and map scalar by scalar. Anything else (combining marks,
        // other scripts, the dots outside ASCII) takes the character-by-character way.
        let folded = TextNormalizer.fold(value)
        var out = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            let v = scalar.value
            if v == 0x20 || v == 0x2E { continue }
            guard (0x21...0x7E).contains(v) || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) else {
                return standardNameByCharacter(value)
            }
            if let standard = scalarVariants[v] { out.append(contentsOf: standard.unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }

    /// `standardName` character by character: the definition the fast path keeps to.
    func standardNameByCharacter(_ value: String) -> String {
        String(Self.normalizedName(value).map { variants[$0] ?? $0 })
    }

    /// The value as blocking and scoring compare it.
    func comparable(_ field: String, _ value: String) -> String {
        if rules.rules.contains(where: { $0.field == field && $0.comparison == .name }) { return standardName(value) }
        return Self.plain(value)
    }

    /// The record's blocking keys: `(rule name, key text)` for each rule whose fields all have values.
    public func blockingKeys(_ values: [String: String]) -> [(rule: String, key: String)] {
        rules.blocking.compactMap { block in
            var parts: [String] = []
            for field in block.fields {
                guard let v = values[field].map({ comparable(field, $0) }), !v.isEmpty else { return nil }
                parts.append(v)
            }
            return (block.name, block.name + "\u{1F}" + parts.joined(separator: "\u{1F}"))
        }
    }

    /// The one candidate safe to link without review, by index: the only one at or above the
    /// threshold, with no rule that disagrees. Nil sends the record to review.
    public static func autoLinkChoice(_ candidates: [(score: Double, disagrees: Bool)], threshold: Double) -> Int? {
        let qualifying = candidates.indices.filter { candidates[$0].score >= threshold }
        guard qualifying.count == 1, !candidates[qualifying[0]].disagrees else { return nil }
        return qualifying[0]
    }

    /// A candidate's score in [-1, 1]: (agreeing weight - disagreeing weight) / total weight,
    /// with each rule's verdict.
    public func score(_ record: [String: String], _ candidate: [String: String]) -> (score: Double, agreement: [(field: String, agreement: RuleAgreement)]) {
        var total = 0.0, sum = 0.0
        var verdicts: [(String, RuleAgreement)] = []
        for rule in rules.rules {
            total += rule.weight
            guard let a = record[rule.field], let b = candidate[rule.field], !a.isEmpty, !b.isEmpty else {
                verdicts.append((rule.field, .missing))
                continue
            }
            let verdict: RuleAgreement
            switch rule.comparison {
            case .exact:
                verdict = Self.plain(a) == Self.plain(b) ? .agree : .disagree
            case .name:
                if Self.normalizedName(a) == Self.normalizedName(b) { verdict = .agree }
                else if standardName(a) == standardName(b) { verdict = .variant }
                else { verdict = .disagree }
            }
            sum += verdict == .disagree ? -rule.weight : rule.weight
            verdicts.append((rule.field, verdict))
        }
        let score = total > 0 ? sum / total : 0
        return ((score * 1000).rounded() / 1000, verdicts)
    }
}

extension String {
    func trimmingCharactersInSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
