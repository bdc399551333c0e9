import Adapters
import Foundation
import JSON5

/// A simulated department system for scheduler tests: a list of pages served in order, with
/// failures the test queues, an optional delay per page, and a log of what was asked.
/// Pages are addressed by their index; the checkpoint after page i is "i+1".
final class FakeDepartment: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var departments: [String: FakeDepartment] = [:]

    /// A new department under a unique name (tests run in parallel).
    static func make(pages: [[UInt8]]) -> FakeDepartment {
        let department = FakeDepartment(name: "dept-\(UUID().uuidString.prefix(8))", pages: pages)
        lock.withLock { departments[department.name] = department }
        return department
    }

    static func named(_ name: String) -> FakeDepartment? { lock.withLock { departments[name] } }

    let name: String
    private let lock = NSLock()
    private var pages: [[UInt8]]
    private var queuedFailures: [PullFailure] = []
    private var pageDelay: Double = 0
    /// Requests for which this says true wait until `openGate()` (page index, request ordinal from 1).
    private var gate: (@Sendable (Int, Int) -> Bool)?
    private let gateOpened = NSCondition()
    private(set) var requests: [(hub: String, checkpoint: String?, at: Date)] = []
    private(set) var stored: [String] = []
    private var activeRuns = 0
    private(set) var maxActiveRuns = 0
    /// Sources built (runs started), by hub label.
    private(set) var runs: [String] = []

    init(name: String, pages: [[UInt8]]) {
        self.name = name
        self.pages = pages
    }

    func failNext(_ failures: PullFailure...) { lock.withLock { queuedFailures += failures } }
    func setPageDelay(_ seconds: Double) { lock.withLock { pageDelay = seconds } }
    /// Requests for page `index` and later wait at the gate.
    func closeGate(atPage index: Int) { gateOpened.withLock { gate = { page, _ in page >= index } } }
    /// Requests after the first `count` wait at the gate.
    func closeGate(afterRequests count: Int) { gateOpened.withLock { gate = { _, ordinal in ordinal > count } } }
    func openGate() { gateOpened.withLock { gate = nil; gateOpened.broadcast() } }
    /// Lets the requests for pages before `index` through; later pages wait.
    func moveGate(toPage index: Int) { gateOpened.withLock { gate = { page, _ in page >= index }; gateOpened.broadcast() } }
    /// True while a request waits at the gate.
    private(set) var waitingAtGate = false
    var isWaitingAtGate: Bool { gateOpened.withLock { waitingAtGate } }
    func append(_ page: [UInt8]) { lock.withLock { pages.append(page) } }
    var requestLog: [(hub: String, checkpoint: String?, at: Date)] { lock.withLock { requests } }
    var storedLog: [String] { lock.withLock { stored } }
    var runLog: [String] { lock.withLock { runs } }
    var maxConcurrentRuns: Int { lock.withLock { maxActiveRuns } }

    func runStarted(hub: String) {
        lock.withLock {
            runs.append(hub)
            activeRuns += 1
            maxActiveRuns = max(maxActiveRuns, activeRuns)
        }
    }

    func page(after checkpoint: String?, hub: String) throws(PullFailure) -> PulledPage? {
        let (failure, delay, page, index, ordinal): (PullFailure?, Double, [UInt8]?, Int, Int) = lock.withLock {
            requests.append((hub, checkpoint, Date()))
            let index = Int(checkpoint ?? "0") ?? 0
            let failure = queuedFailures.isEmpty ? nil : queuedFailures.removeFirst()
            return (failure, pageDelay, index < pages.count ? pages[index] : nil, index, requests.count)
        }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        gateOpened.withLock {
            while let gate, gate(index, ordinal) {
                waitingAtGate = true
                gateOpened.wait()
            }
            waitingAtGate = false
        }
        if let failure {
            lock.withLock { activeRuns -= 1 }
            throw failure
        }
        guard let page else {
            lock.withLock { activeRuns -= 1 }
            return nil
        }
        return PulledPage(body: page, name: "\(name) page \(index + 1)", checkpoint: String(index + 1), token: String(index))
    }

    func didStore(_ page: PulledPage) { lock.withLock { stored.append(page.checkpoint ?? "") } }
}

/// The pull kind over `FakeDepartment`: `pull: { kind: "fake", every: "1s", department: NAME,
/// password: { env: VAR } }`. Two types with the same name let a test tell two hubs apart.
enum FakePullSettings {
    static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] {
        var problems: [AdapterProblem] = []
        for member in settings.members ?? [] where !["kind", "every", "department", "password"].contains(member.key) {
            problems.append(AdapterProblem(file: file, position: member.keyPosition, path: "pull.\(member.key)", message: "unknown setting"))
        }
        if settings["department"]?.stringValue?.isEmpty ?? true {
            problems.append(AdapterProblem(file: file, position: settings["department"]?.position ?? settings.position,
                                           path: "pull.department", message: "missing: the fake department's name"))
        }
        return problems
    }

    static func source(_ settings: JSONNode, context: PullContext, hub: String) throws(PullFailure) -> any PullSource {
        if let password = settings["password"], let reference = AdapterValidation.reference(password) {
            do { _ = try context.resolveSecret(reference) } catch {
                throw PullFailure(.permanent, "the password does not resolve")
            }
        }
        guard let name = settings["department"]?.stringValue, let department = FakeDepartment.named(name) else {
            throw PullFailure(.permanent, "no such fake department")
        }
        department.runStarted(hub: hub)
        return FakeSource(department: department, hub: hub)
    }
}

struct FakePullKind: PullKind {
    static let name = "fake"
    static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] { FakePullSettings.validate(settings, file: file) }
    static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        try FakePullSettings.source(settings, context: context, hub: "A")
    }
}

struct OtherHubFakePullKind: PullKind {
    static let name = "fake"
    static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] { FakePullSettings.validate(settings, file: file) }
    static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        try FakePullSettings.source(settings, context: context, hub: "B")
    }
}

final class FakeSource: PullSource {
    let department: FakeDepartment
    let hub: String
    init(department: FakeDepartment, hub: String) {
        self.department = department
        self.hub = hub
    }
    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? { try department.page(after: checkpoint, hub: hub) }
    func didStore(_ page: PulledPage) throws(PullFailure) { department.didStore(page) }
}

/// Pages of police-register records cut from the sample (the police-hukou mapping's format).
enum PolicePages {
    nonisolated(unsafe) static let items: [[String: Any]] = {
        let data = FileManager.default.contents(atPath: RepositoryRoot.path + "/mappings/samples/police-hukou.json")!
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (root["data"] as! [String: Any])["items"] as! [[String: Any]]
    }()

    static func page(_ items: [[String: Any]]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: ["code": 0, "data": ["items": items]]))
    }

    /// The sample's records, `size` per page.
    static func pages(size: Int) -> [[UInt8]] {
        stride(from: 0, to: items.count, by: size).map { page(Array(items[$0..<min($0 + size, items.count)])) }
    }

    /// A page whose records all fail the mapping (citizen ID numbers with a bad check digit).
    static func allRejected(count: Int = 3) -> [UInt8] {
        page((0..<count).map { i in ["GMSFHM": "11010519491231002\(i)", "XM": "x", "XB": "1", "YHZGX": "子", "HH": "1", "DJJG": "x"] })
    }

    static func declaration(_ department: FakeDepartment, every: String = "1s", extra: String = "") -> String {
        """
        {
          id: "police-hukou", department: "police", mapping: "police-hukou.json5",
          pull: { kind: "fake", every: "\(every)", department: "\(department.name)"\(extra) },
        }
        """
    }
}
