import Foundation
import XCTest

/// A real docker-registry on loopback, run through scripts/oci-test-registry.sh.
/// Each instance owns a fresh temporary directory (storage, config, log) and stops the
/// server in `stop()`; tests call it in `defer`/tearDown.
final class TestRegistry: @unchecked Sendable {
    let dir: URL
    /// `127.0.0.1:PORT`.
    private(set) var address = ""
    let auth: (user: String, password: String)?
    /// With `auth`: Bearer tokens from a token service instead of htpasswd Basic.
    let bearer: Bool

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var script: URL { packageRoot.appendingPathComponent("scripts/oci-test-registry.sh") }

    init(auth: (user: String, password: String)? = nil, bearer: Bool = false) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            throw Peer.missing("docker-registry is not installed (Debian package docker-registry); run scripts/setup.sh")
        }
        self.auth = auth
        self.bearer = bearer
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-oci-reg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try start()
    }

    /// Starts (or restarts on the same port and storage) the registry.
    func start() throws {
        var args = ["start", dir.path]
        if let auth { args += [bearer ? "--token" : "--auth", "\(auth.user):\(auth.password)"] }
        let out = try Self.run(args)
        address = out.split(separator: "\n").last(where: { $0.hasPrefix("127.0.0.1:") }).map(String.init) ?? out
        guard address.hasPrefix("127.0.0.1:") else { throw TestRegistryError.startFailed(out) }
    }

    func stop() {
        _ = try? Self.run(["stop", dir.path])
    }

    /// Stops the server and deletes its directory.
    func destroy() {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }

    /// Lines of the token service's log: one JSON object per token issued.
    func tokensIssued() -> [String] {
        ((try? String(contentsOf: dir.appendingPathComponent("token.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The file the registry stores a blob's bytes in (distribution's filesystem layout).
    func blobDataPath(_ hex: String) -> URL {
        dir.appendingPathComponent("storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
    }

    /// Requests in the access log matching `method` and a path fragment, polled for up to
    /// 3 s until `atLeast` appear (the registry writes a line after the response is sent).
    func accessLogCount(method: String, pathContains: String = "", atLeast: Int) -> Int {
        var n = 0
        for _ in 0..<30 {
            n = accessLogCount(method: method, pathContains: pathContains)
            if n >= atLeast { break }
            usleep(100_000)
        }
        return n
    }

    /// Requests in the access log matching `method` and a path fragment.
    func accessLogCount(method: String, pathContains: String = "") -> Int {
        guard let log = try? String(contentsOf: dir.appendingPathComponent("registry.log"), encoding: .utf8) else { return 0 }
        return log.split(separator: "\n").filter { $0.contains("\"\(method) ") && (pathContains.isEmpty || $0.contains(pathContains)) && $0.contains("HTTP/1.1\"") }.count
    }

    @discardableResult
    static func run(_ args: [String]) throws -> String {
        let (code, out) = spawn([script.path] + args)
        guard code == 0 else { throw TestRegistryError.startFailed("exit \(code): \(out)") }
        return out
    }
}

/// Runs a program with posix_spawn + waitpid and returns its exit code and stdout+stderr.
/// (Foundation's `Process.waitUntilExit` can hang when called from an async test on Linux.)
/// Output goes to a file, not a pipe, because a daemon the program starts would inherit
/// and hold a pipe open.
func spawn(_ argv: [String]) -> (Int32, String) {
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-oci-spawn-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: outFile) }
    let shell = ["/bin/bash", "-c", "\"$@\" > \"$GLOSSA_SPAWN_OUT\" 2>&1", "spawn"] + argv
    var env = ProcessInfo.processInfo.environment
    env["GLOSSA_SPAWN_OUT"] = outFile.path
    let cArgs = shell.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/bash", nil, nil, cArgs, cEnv) == 0 else { return (-1, "posix_spawn failed") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), out)
}

enum TestRegistryError: Error { case startFailed(String) }

/// Random bytes written to a temporary file; returns the file, digest and size.
func makeBlobFile(size: Int, seed: UInt64, in dir: URL) throws -> (URL, Data) {
    var rng = SplitMix64(seed: seed)
    var data = Data(count: size)
    data.withUnsafeMutableBytes { raw in
        let p = raw.bindMemory(to: UInt8.self)
        var i = 0
        while i < size {
            let v = rng.next()
            for k in 0..<8 where i + k < size { p[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
            i += 8
        }
    }
    let url = dir.appendingPathComponent("blob-\(seed)-\(size)")
    try data.write(to: url)
    return (url, data)
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

func temporaryDirectory(_ label: String) throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-oci-\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}
