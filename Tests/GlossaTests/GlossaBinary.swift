import Foundation
import XCTest

/// The `glossa` executable built beside the test bundle (`swift build --build-tests` builds
/// it), run as a user would: for tests of the CLI and of what other tools make of its output.
enum GlossaBinary {
    /// Its path, or `Peer.missing` (a skip; a failure under CI=true).
    static func url() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0 ..< 3 {
            let candidate = dir.appendingPathComponent("glossa")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw Peer.missing("glossa binary not found next to \(CommandLine.arguments[0]); build with --build-tests")
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs `glossa args` with `$GLOSSA_REGISTRY` = `registry` (and `extra` variables). stderr goes through a file, so
    /// long progress output cannot fill a pipe and stall the child while stdout is read.
    static func run(_ args: [String], registry: String, environment extra: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = try url()
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["GLOSSA_REGISTRY"] = registry
        env.merge(extra) { $1 }
        p.environment = env
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let err = try FileHandle(forWritingTo: errURL)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try err.close()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                   stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
