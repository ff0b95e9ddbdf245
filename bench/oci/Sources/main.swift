// bench/oci: push and pull a whisper-base-sized blob set (~145 MB in ~250 tensor-shaped
// blobs) and 20 expert-sized artifacts (48 LoRA-factor blobs each) to a local
// docker-registry, with Glossa's OCI client and with oras-py on the same files, in one
// run. Prints MB/s, requests (counted in the registry's access log, the same way for
// both tools) and ratios.
//
// usage: glossa-bench-oci REGISTRY WORKDIR REGISTRY_LOG
// (bench/oci/run.sh starts the registry and passes these.)
import Foundation
import GlossaCore
import OCI

let args = CommandLine.arguments
guard args.count == 4 else {
    FileHandle.standardError.write(Data("usage: glossa-bench-oci REGISTRY WORKDIR REGISTRY_LOG\n".utf8))
    exit(2)
}
let registry = args[1], work = URL(fileURLWithPath: args[2]), logPath = args[3]
let fm = FileManager.default

/// Whisper-base tensor sizes in bytes at f16 (what the store holds, ~compressed size for
/// random data): token embedding, 6+6 layers of attention/MLP weights, biases, norms.
func baseSizes() -> [Int] {
    var s = [51865 * 512 * 2, 448 * 512 * 2, 1500 * 512 * 2, 512 * 80 * 3 * 2, 512 * 512 * 3 * 2]
    for layer in 0..<12 {
        let attn = layer < 6 ? 4 : 8                  // decoder layers add cross-attention
        s += Array(repeating: 512 * 512 * 2, count: attn) + [2048 * 512 * 2, 512 * 2048 * 2]
        s += Array(repeating: 512 * 2, count: attn + 5) + [2048 * 2]   // biases and norms
    }
    return s
}

func writeRandom(_ url: URL, _ n: Int) throws {
    var rng = SystemRandomNumberGenerator()
    var d = Data(count: n)
    d.withUnsafeMutableBytes { raw in
        let words = raw.bindMemory(to: UInt64.self)
        for i in 0..<words.count { words[i] = rng.next() }
    }
    try d.write(to: url)
}

func makeSet(_ dir: URL, _ sizes: [Int]) throws -> [(URL, Digest, Int64)] {
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    return try sizes.enumerated().map { i, n in
        let u = dir.appendingPathComponent(String(format: "t%04d.bin", i))
        try writeRandom(u, n)
        let data = try Data(contentsOf: u)
        return (u, Digest(of: data), Int64(n))
    }
}

func accessLogRequests() -> Int {
    guard let log = try? String(contentsOfFile: logPath, encoding: .utf8) else { return 0 }
    return log.split(separator: "\n").filter { $0.contains("HTTP/1.1\" ") && !$0.contains("level=") }.count
}

struct Phase { var name: String; var seconds: Double; var bytes: Int64; var requests: Int }

try? fm.removeItem(at: work)
let base = try makeSet(work.appendingPathComponent("base"), baseSizes())
var experts: [[(URL, Digest, Int64)]] = []
for e in 0..<20 {
    // r=16 LoRA on q/v of 12 layers (+ cross-attn): 24 modules x (A [16,512], B [512,16]) f16.
    experts.append(try makeSet(work.appendingPathComponent("experts/\(String(format: "%02d", e))"), Array(repeating: 16 * 512 * 2, count: 48)))
}

let client = try RegistryClient(registry: registry)
let parallel = 4

func pushSet(_ files: [(URL, Digest, Int64)], repo: String, tag: String) async throws -> Void {
    try await withThrowingTaskGroup(of: OCIDescriptor.self) { group in
        var it = files.makeIterator()
        var layers: [OCIDescriptor] = []
        func add(_ g: inout ThrowingTaskGroup<OCIDescriptor, Error>) {
            guard let (u, d, n) = it.next() else { return }
            g.addTask {
                _ = try await client.pushBlob(repository: repo, file: u, digest: d, size: n)
                return OCIDescriptor(mediaType: GlossaOCI.blobFrameMediaType, digest: d, size: n,
                                     annotations: ["org.opencontainers.image.title": u.lastPathComponent])
            }
        }
        for _ in 0..<parallel { add(&group) }
        while let l = try await group.next() { layers.append(l); add(&group) }
        let (cfg, _) = try await client.pushBlob(repository: repo, data: Data("{}".utf8))
        let m = OCIImageManifest(artifactType: "application/vnd.glossa.bench.v1+json",
                                 config: OCIDescriptor(mediaType: OCIMediaType.emptyJSON, digest: cfg, size: 2),
                                 layers: layers.sorted { $0.digest < $1.digest })
        let enc = JSONEncoder(); enc.outputFormatting = .sortedKeys
        try await client.putManifest(try enc.encode(m), repository: repo, reference: tag)
    }
}

func pullSet(repo: String, tag: String, into dir: URL) async throws {
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    let f = try await client.getManifest(repository: repo, reference: tag)
    let m = try JSONDecoder().decode(OCIImageManifest.self, from: f.data)
    try await withThrowingTaskGroup(of: Void.self) { group in
        var it = m.layers.makeIterator()
        func add(_ g: inout ThrowingTaskGroup<Void, Error>) {
            guard let l = it.next() else { return }
            g.addTask { try await client.pullBlob(repository: repo, digest: l.digest, expectedSize: l.size, to: dir.appendingPathComponent(l.digest.hex)) }
        }
        for _ in 0..<parallel { add(&group) }
        while try await group.next() != nil { add(&group) }
    }
}

func measure(_ name: String, bytes: Int64, _ body: () async throws -> Void) async throws -> Phase {
    let r0 = accessLogRequests()
    let t0 = Date()
    try await body()
    let dt = Date().timeIntervalSince(t0)
    usleep(300_000)   // the registry logs a request after answering it
    return Phase(name: name, seconds: dt, bytes: bytes, requests: accessLogRequests() - r0)
}

let baseBytes = base.reduce(0) { $0 + $1.2 }
let expertBytes = experts.flatMap { $0 }.reduce(0) { $0 + $1.2 }
let out = work.appendingPathComponent("glossa-out")
var ours: [Phase] = []
ours.append(try await measure("base push", bytes: baseBytes) { try await pushSet(base, repo: "glossa/base", tag: "v1") })
ours.append(try await measure("base pull", bytes: baseBytes) { try await pullSet(repo: "glossa/base", tag: "v1", into: out.appendingPathComponent("base")) })
ours.append(try await measure("20 experts push", bytes: expertBytes) {
    for (i, e) in experts.enumerated() { try await pushSet(e, repo: "glossa/experts", tag: String(format: "%02d", i)) }
})
ours.append(try await measure("20 experts pull", bytes: expertBytes) {
    for i in 0..<experts.count { try await pullSet(repo: "glossa/experts", tag: String(format: "%02d", i), into: out.appendingPathComponent("e\(i)")) }
})
ours.append(try await measure("base re-push", bytes: baseBytes) { try await pushSet(base, repo: "glossa/base", tag: "v1") })
let stats = await client.stats

// oras-py on the same files, same registry, requests counted the same way.
var theirs: [Phase] = []
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("oras_bench.py")
// The project venv's Python (scripts/setup.sh installs oras there), or $PYTHON.
let root = script.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
let p = Process()
p.executableURL = URL(fileURLWithPath: python)
p.arguments = [script.path, registry, work.path, logPath]
let pipe = Pipe()
p.standardOutput = pipe
try p.run()
for line in String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n") {
    guard let j = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let name = j["phase"] as? String, let s = j["seconds"] as? Double, let b = j["bytes"] as? Int, let r = j["requests"] as? Int else { continue }
    theirs.append(Phase(name: name, seconds: s, bytes: Int64(b), requests: r))
}
p.waitUntilExit()
guard theirs.count == ours.count else {
    print("oras_bench.py failed (exit \(p.terminationStatus)); only Glossa's numbers:")
    for o in ours { print(o) }
    exit(1)
}

func mbps(_ p: Phase) -> Double { Double(p.bytes) / 1e6 / p.seconds }
print("bench/oci: \(base.count) base blobs, \(String(format: "%.1f", Double(baseBytes) / 1e6)) MB; 20 experts x 48 blobs, \(String(format: "%.1f", Double(expertBytes) / 1e6)) MB; registry \(registry)")
print("phase               glossa MB/s  oras MB/s  ratio   glossa req  oras req")
for (o, t) in zip(ours, theirs) {
    print(o.name.padding(toLength: 18, withPad: " ", startingAt: 0)
          + String(format: " %11.1f %10.1f %6.2fx %11d %9d", mbps(o), mbps(t), mbps(o) / mbps(t), o.requests, t.requests))
}
print("glossa totals: \(stats.totalRequests) requests, \(stats.bytesUploaded / 1_000_000) MB up, \(stats.bytesDownloaded / 1_000_000) MB down, blobs sent \(stats.blobsUploaded), skipped \(stats.blobsSkipped)")
