import Foundation
import JSON5

/// The `pull` object of an adapter declaration: which pull kind reads the department's system,
/// how often, and the kind's own settings.
///
/// ```json5
/// pull: { kind: "http-json", every: "5m", url: "https://...", ... }
/// ```
public struct PullDeclaration: Sendable, Equatable {
    /// A name from `PullKinds.all` (`http-json`, `soap-xml`, `csv-drop`, `postgres-table`).
    public var kind: String
    /// Seconds between the end of one successful run and the start of the next.
    public var every: Double
    /// The whole `pull` object as written (with positions), handed to the kind. `kind` and
    /// `every` are in it too; kinds ignore them.
    public var settings: JSONNode

    public init(kind: String, every: Double, settings: JSONNode) {
        self.kind = kind
        self.every = every
        self.settings = settings
    }
}

/// Run intervals as written in declarations: `"30s"`, `"5m"`, `"2h"`, or a number of seconds.
public enum PullSchedule {
    /// The shortest interval accepted, in seconds.
    public static let minimum: Double = 1
    /// The longest interval accepted (one week), in seconds.
    public static let maximum: Double = 7 * 24 * 3600

    /// Seconds for `node`, or a message saying what is wrong with it.
    public static func seconds(_ node: JSONNode) -> Result<Double, ScheduleError> {
        let value: Double?
        if let text = node.numberText {
            value = Double(text)
        } else if let text = node.stringValue {
            value = parse(text)
        } else {
            return .failure(ScheduleError(message: "must be a duration such as \"30s\", \"5m\", \"1h\" or a number of seconds"))
        }
        guard let value, value.isFinite else {
            return .failure(ScheduleError(message: "is not a duration: write \"30s\", \"5m\", \"1h\" or a number of seconds"))
        }
        guard value >= minimum, value <= maximum else {
            return .failure(ScheduleError(message: "must be between \(Int(minimum)) second and 7 days"))
        }
        return .success(value)
    }

    /// `"90"`, `"30s"`, `"5m"`, `"1.5h"`, `"1d"`: seconds, or nil.
    public static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return nil }
        let factor: Double
        var number = Substring(trimmed)
        switch last {
        case "s": factor = 1; number = number.dropLast()
        case "m": factor = 60; number = number.dropLast()
        case "h": factor = 3600; number = number.dropLast()
        case "d": factor = 86400; number = number.dropLast()
        default: factor = 1
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let n = Double(number) else { return nil }
        return n * factor
    }

    /// Why a schedule was refused.
    public struct ScheduleError: Error, Sendable {
        public var message: String
    }
}
