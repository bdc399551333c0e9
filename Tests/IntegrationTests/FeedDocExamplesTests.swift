import Foundation
import Testing

/// Runs the examples of docs/feed.md against a real hub, in the order the document gives them.
///
/// Conventions of the document (see `DocExamples`):
/// - ```` ```sh test=NAME ```` and ```` ```python test=NAME ```` blocks are run with bash
///   (`-e -o pipefail`) and python3 in one shared folder; `background` ones keep running while
///   the next ones run and are stopped by this test.
/// - ```` ```text output=NAME ```` is the exact standard output of example NAME.
/// - ```` ```json example=event ```` is a sample event: its members must be those of the hub's
///   events.
///
/// The examples read HUB, ADMIN_TOKEN and WEBHOOK_PORT, set here, and SUB_ID, SUB_TOKEN,
/// WEBHOOK_SUB_ID and WEBHOOK_SECRET, which this test takes from the output of the examples that
/// create the subscriptions (what the admin hands to the platform). Between examples the test
/// plays the police department, pushing changes of the sample register through its adapter.
@Suite struct FeedDocExamplesTests {
    /// Every runnable example, in document order: a renamed, added or removed one fails here first.
    static let expectedExamples = ["create-subscription", "create-webhook-subscription", "invalid-subscription", "pause-and-resume",
                                   "snapshot", "pull", "pull-ndjson", "follow", "stream", "webhook-receiver", "redeliver",
                                   "rotate-secret", "audit", "error-answers"]

    static let documentPath = RepositoryRoot.path + "/docs/feed.md"

    @Test func theDocumentsExamplesRunAgainstARealHub() async throws {
        let markdown = try String(contentsOfFile: Self.documentPath, encoding: .utf8)
        let examples = try DocExamples.parse(markdown, file: "docs/feed.md")
        #expect(examples.map(\.name) == Self.expectedExamples)
        let walk = try FeedDocWalkthrough(markdown: markdown, examples: examples)
        defer { walk.session.stop() }
        try walk.documentedDefaultsMatchTheCatalog()
        try await walk.departmentLoadsTheRegister()
        try await walk.adminCreatesTheSubscriptions()
        try walk.platformLoadsTheSnapshot()
        try walk.platformPulls()
        try await walk.platformFollowsTheChanges()
        try await walk.platformStreams()
        try await walk.gridAppReceivesSignedWebhooks()
        try walk.adminReadsTheAudit()
        try walk.platformMeetsErrorAnswers()
    }

    @Test func theRunnerRejectsMalformedBlocksAndReportsFailingExamples() throws {
        #expect(throws: DocExampleSyntaxError.self) { try DocExamples.parse("```sh test=a\necho\n", file: "x.md") }
        #expect(throws: DocExampleSyntaxError.self) { try DocExamples.parse("```sh test=a\n```\n```sh test=a\n```\n", file: "x.md") }
        #expect(throws: DocExampleSyntaxError.self) { try DocExamples.parse("```ruby test=a\nputs 1\n```\n", file: "x.md") }
        #expect(try DocExamples.blocks("```text = output=x\nA\n```\n", file: "x.md").first?.attributes == ["": "", "output": "x"])
        let parsed = try DocExamples.parse("text\n```sh\nnot run\n```\n```python test=b background\nprint(1)\n```\n", file: "x.md")
        #expect(parsed.map(\.name) == ["b"] && parsed[0].background && parsed[0].line == 5 && parsed[0].code == "print(1)\n")

        // A failing command fails its example: bash runs with -e and pipefail.
        let folder = try temporaryFolder("ro-docex")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let failing = DocExample(name: "failing", language: .sh, background: false, code: "false | cat\necho unreachable\n", line: 1)
        let run = try ExampleProcess(failing, folder: folder, environment: [:])
        #expect(run.finish(timeout: 10) == 1)
        #expect(run.stdout.isEmpty)
        // A background example and what it started are stopped by id.
        let sleeper = try ExampleProcess(DocExample(name: "sleeper", language: .sh, background: true, code: "sleep 30 | cat\n", line: 1),
                                         folder: folder, environment: [:])
        usleep(200_000)
        let children = ExampleProcess.descendants(of: sleeper.process.processIdentifier)
        #expect(!children.isEmpty)
        sleeper.stop()
        #expect(!sleeper.process.isRunning)
        usleep(100_000)
        #expect(!children.contains(where: ExampleProcess.isAlive), "a child of the example outlived it")
    }
}
