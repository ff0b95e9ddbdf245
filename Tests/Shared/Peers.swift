import Foundation
import XCTest

// One file for every test target: each target is its own module and cannot import another's
// code, so Tests/<Target>/Peers.swift is a symlink to Tests/Shared/Peers.swift (no extra
// target in Package.swift).

/// Peers are what a test needs from outside the package: a tool (docker-registry,
/// espeak-ng), the fetched whisper-base, a built binary, a Python module in the project venv.
///
/// A test whose peer is missing skips on a developer machine, but fails under `CI=true`:
/// CI runs scripts/setup.sh and fetches the model first (`make test`), so a missing peer
/// there means a broken set-up, and a skip would hide that the test never ran.
enum Peer {
    /// The package root (this file is two levels below it, in Tests/<Target>/).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// True when the environment says this is CI (`CI=true`, as .ci/run and CI services set).
    static var required: Bool {
        ["true", "1"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "")
    }

    /// What to throw when a peer is missing: `XCTSkip(reason)` locally, a failure under CI.
    static func missing(_ reason: String) -> any Error {
        required ? MissingPeer(reason: reason) : XCTSkip(reason)
    }

    /// The project venv's Python (`.venv/bin/python` at the package root, made by
    /// scripts/setup.sh; `$PYTHON` overrides it), after checking that it imports `modules`.
    /// Never the system python3: on Debian 12 it has no pip and none of the peers.
    static func python(importing modules: [String]) throws -> URL {
        let env = ProcessInfo.processInfo.environment["PYTHON"]
        let python = URL(fileURLWithPath: env ?? packageRoot.appendingPathComponent(".venv/bin/python").path)
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw missing("no Python at \(python.path); run scripts/setup.sh (it creates .venv with the test peers)")
        }
        guard !modules.isEmpty else { return python }
        let probe = Process()
        probe.executableURL = python
        probe.arguments = ["-c", "import " + modules.joined(separator: ", ")]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw missing("\(python.path) cannot import \(modules.joined(separator: ", ")); run scripts/setup.sh")
        }
        return python
    }
}

/// Thrown instead of `XCTSkip` under `CI=true`; XCTest reports it as the test's failure.
struct MissingPeer: Error, CustomStringConvertible {
    let reason: String
    var description: String { "missing peer (CI=true, so this fails instead of skipping): \(reason)" }
}
