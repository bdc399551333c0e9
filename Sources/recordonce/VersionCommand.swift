import CLIKit
import Hub

let versionCommand = Command("version", abstract: "Print the version of this build.") { _ in
    print("recordonce \(BuildInfo.version)")
    return ExitCode.success
}
