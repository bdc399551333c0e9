import Foundation
import HTTPClient
import Testing

/// deploy/systemd/recordonce.service: checked by `systemd-analyze verify`, and the hub's side of
/// `Type=notify` (READY=1, RELOADING=1 on SIGHUP, STOPPING=1) received on a real notify socket.
@Suite struct ServiceUnitTests {
    static let unitPath = RepositoryRoot.path + "/deploy/systemd/recordonce.service"

    struct MissingTool: Error, CustomStringConvertible { let description: String }

    /// `systemd-analyze verify` on a copy of the unit whose ExecStart names the built binary
    /// (verify checks that the program exists). Returns its exit status and output.
    static func verify(_ unitText: String) throws -> (status: Int32, output: String) {
        guard let tool = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw MissingTool(description: "systemd-analyze is missing: install the Debian package systemd (deploy/setup does); "
                              + "the service unit cannot be checked without it")
        }
        let folder = try temporaryFolder("ro-unit")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = folder + "/recordonce.service"
        try unitText.replacingOccurrences(of: "/usr/local/bin/recordonce", with: Binary.path)
            .write(toFile: copy, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["verify", copy]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func systemdAnalyzeVerifiesTheUnit() throws {
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let result = try Self.verify(unit)
        #expect(result.status == 0 && result.output.isEmpty, "systemd-analyze verify: \(result.output)")
        // The check can fail: a misspelt directive and a wrong value are reported.
        let broken = try Self.verify(unit.replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystm=strict")
            .replacingOccurrences(of: "Type=notify", with: "Type=notifyy"))
        #expect(!broken.output.isEmpty, "systemd-analyze accepted a broken unit")

        // What the issue asks of the unit, line by line.
        let lines = Set(unit.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for required in ["Type=notify", "User=recordonce", "NoNewPrivileges=yes", "ProtectSystem=strict",
                         "ReadWritePaths=/var/lib/recordonce", "StateDirectory=recordonce", "PrivateTmp=yes",
                         "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
                         "ExecStart=/usr/local/bin/recordonce serve --config /etc/recordonce/hub.json5"] {
            #expect(lines.contains(required), "the unit lacks \(required)")
        }
    }

    @Test func serveNotifiesReadinessReloadsCertificatesOnSIGHUPAndNotifiesStopping() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let certificate = pki.folder + "/served.pem", key = pki.folder + "/served.key"
        try pki.install(pki.authorityA, as: certificate, key)
        let notifications = try NotifySocket(path: pki.folder + "/notify")
        defer { notifications.close() }
        let serve = try ServeLifecycleTests.ServeProcess(
            dataDirectory: pki.folder, arguments: ["--database-url", try TestDatabase.fresh(), "--tls-cert", certificate, "--tls-key", key],
            environment: ["NOTIFY_SOCKET": notifications.path])
        let ready = notifications.receive(timeout: 10)
        #expect(ready?.contains("READY=1") == true, "no READY=1: \(ready ?? "nothing")")
        #expect(ready?.contains("MAINPID=\(serve.process.processIdentifier)") == true)
        let url = "https://127.0.0.1:\(serve.port)/readyz"
        #expect(try TLSClient.get(url, authority: pki.authorityA.caFile).status == 200)

        // New certificate files, SIGHUP: the process reloads them without restarting.
        try pki.install(pki.authorityB, as: certificate, key)
        kill(serve.process.processIdentifier, SIGHUP)
        #expect(notifications.receive(timeout: 10) == "RELOADING=1")
        #expect(notifications.receive(timeout: 10) == "READY=1")
        #expect(try TLSClient.get(url, authority: pki.authorityB.caFile).status == 200)
        #expect(TLSClient.failure(url, authority: pki.authorityA.caFile) == .tls)
        #expect(serve.process.isRunning)

        #expect(serve.stop(SIGTERM) == 0)
        #expect(notifications.receive(timeout: 10) == "STOPPING=1")
    }
}

/// A notify socket as systemd opens one: a Unix datagram socket bound to a path.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let socket: Int32

    init(path: String) throws {
        self.path = path
        socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            for (i, byte) in path.utf8.enumerated() { target[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard socket >= 0, bound == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    /// The next datagram's text, or nil after `timeout` seconds.
    func receive(timeout: Double) -> String? {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    func close() {
        Glibc.close(socket)
        unlink(path)
    }
}
