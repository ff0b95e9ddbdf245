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

extension Peer {
    /// The folder a peer's script writes at test time: `python script arguments... OUT`.
    /// Model weights, even a tiny random model's, are never committed, so tests that need a
    /// file written by the peer itself (CTranslate2's model.bin, say) have it made here.
    ///
    /// Made once per script text and arguments, then reused: the folder is
    /// .build/peer-golden/<script>-<FNV-1a of both>/, written under a temporary name and
    /// renamed into place, so an interrupted run or a concurrent one never leaves a
    /// half-written folder behind. A script that fails is a test failure (with its stderr),
    /// not a skip: only a missing Python module is `Peer.missing`.
    static func generated(by script: String, arguments: [String] = [], importing modules: [String]) throws -> URL {
        let scriptURL = packageRoot.appendingPathComponent(script)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try Data(contentsOf: scriptURL) + Data(arguments.joined(separator: "\u{0}").utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let cache = packageRoot.appendingPathComponent(".build/peer-golden")
        let folder = cache.appendingPathComponent("\(scriptURL.deletingPathExtension().lastPathComponent)-\(String(hash, radix: 16))")
        if FileManager.default.fileExists(atPath: folder.path) { return folder }

        let python = try python(importing: modules)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let scratch = cache.appendingPathComponent(".tmp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = python
        process.arguments = [scriptURL.path] + arguments + [scratch.path]
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GeneratorFailed(script: script, status: process.terminationStatus, stderr: message)
        }
        // Another process may have finished first; its folder is as good as ours.
        if (try? FileManager.default.moveItem(at: scratch, to: folder)) == nil,
           !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.moveItem(at: scratch, to: folder)
        }
        return folder
    }
}

/// A peer's generator script exited non-zero.
struct GeneratorFailed: Error, CustomStringConvertible {
    let script: String, status: Int32, stderr: String
    var description: String { "\(script) exited with \(status):\n\(stderr)" }
}
