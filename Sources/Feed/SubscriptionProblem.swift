/// One thing wrong with a subscription spec: where (a member path such as
/// `masking["Person.mobile"]`) and why. Never quotes values beyond names from the catalog.
public struct SubscriptionProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// A spec that failed validation, with every problem found.
public struct SubscriptionInvalid: Error, Sendable, CustomStringConvertible {
    public var problems: [SubscriptionProblem]

    public init(problems: [SubscriptionProblem]) { self.problems = problems }

    public var description: String {
        "the subscription is not valid (\(problems.count) problem(s)): " + problems.map(\.description).joined(separator: "; ")
    }
}
