import Foundation
import XCTest

/// Runs a Python snippet with JSON on stdin in the project venv (`Peer.python`), returns its
/// stdout; when the venv or a module is missing it skips, or fails under CI=true.
enum PythonPeer {
    static func run(_ script: String, input: Data, needs modules: [String]) throws -> Data {
        let python = try Peer.python(importing: modules).path
        let result = try launch(python, ["-c", script], input: input)
        guard result.status == 0 else {
            throw NSError(domain: "PythonPeer", code: Int(result.status),
                          userInfo: [NSLocalizedDescriptionKey: String(decoding: result.stderr, as: UTF8.self)])
        }
        return result.stdout
    }

    private static func launch(_ exe: String, _ args: [String], input: Data) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let inPipe = Pipe(), outPipe = Pipe()
        // stderr goes to a file so neither pipe can block the other.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-py-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        p.standardInput = inPipe; p.standardOutput = outPipe; p.standardError = errHandle
        try p.run()
        // Write stdin on another thread so a large output cannot deadlock against it.
        let writer = Thread { inPipe.fileHandleForWriting.write(input); try? inPipe.fileHandleForWriting.close() }
        writer.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? errHandle.close()
        return (p.terminationStatus, out, (try? Data(contentsOf: errURL)) ?? Data())
    }
}
