import Foundation
import XCTest

/// Runs scripts/oci-test-registry.sh with `args` and returns its stdout (trimmed). The script
/// leaves docker-registry running, so it runs with posix_spawn + waitpid and its output in a
/// file under `scratch`: Foundation's Process can hang on Linux when a daemon outlives the
/// child, and a pipe would stay open as long as the registry runs.
func runRegistryScript(_ args: [String], scratch: URL) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.appendingPathComponent("scripts/oci-test-registry.sh").path
    let outURL = scratch.appendingPathComponent("script-\(UUID().uuidString).out")
    let argv = ["/bin/bash", "-c", "\"$@\" > \"$0\" 2>/dev/null", outURL.path, "/bin/bash", script] + args
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, cArgs, environ)
    guard spawned == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "cannot start /bin/bash for \(script): posix_spawn error \(spawned)"])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    XCTAssertEqual(status, 0, "oci-test-registry.sh \(args)")
    return String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
