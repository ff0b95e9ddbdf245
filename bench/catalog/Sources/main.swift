// Catalog benchmark: publish / list / show latency with N experts in an embedded registry.
// usage: glossa-bench-catalog DIR [N]     (DIR must not exist or be empty; N defaults to 10000)
// Experts share their tensors (same seed), so the run measures the catalog and the
// manifest path rather than tensor compression. Every publish is durable (fsync'd
// blob, index entry and SQLite commit), as in real use.
import Foundation
import GlossaCore
import Store
import StoreTesting

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
func ms(_ s: Double) -> String { String(format: "%.2f ms", s * 1000) }
func pct(_ xs: [Double], _ p: Double) -> Double { let s = xs.sorted(); return s[min(s.count - 1, Int(Double(s.count) * p))] }

let args = CommandLine.arguments
guard args.count >= 2 else { FileHandle.standardError.write(Data("usage: glossa-bench-catalog DIR [N]\n".utf8)); exit(64) }
let n = args.count > 2 ? Int(args[2])! : 10_000
let r = try LocalRegistry(root: args[1])
let base = try RegistryFixtures.publishBase(r)
let template = try RegistryFixtures.expert(r, base: base, name: "x", version: "1.0.0", seed: 1)
let languages = Array(WhisperLanguage.codes.prefix(20))

let names = max(1, n / 4)
var publish: [Double] = []
let t0 = now()
for i in 0..<n {
    var m = template
    m.name = "expert-\(i % names)"          // 2,500 names x 4 versions for N = 10,000
    m.version = "1.\(i / names).0"
    m.language = languages[i % languages.count]
    m.metrics = ["wer": Double(i % 100) / 100]
    let s = now()
    try r.publish(m)
    publish.append(now() - s)
    if i % 2000 == 1999 { FileHandle.standardError.write(Data("published \(i + 1)\n".utf8)) }
}
let total = now() - t0

func time(_ label: String, repeats: Int = 20, _ body: () throws -> Int) rethrows {
    var xs: [Double] = []
    var count = 0
    for _ in 0..<repeats { let s = now(); count = try body(); xs.append(now() - s) }
    print("\(label.padding(toLength: 34, withPad: " ", startingAt: 0)) p50 \(ms(pct(xs, 0.5)))  p95 \(ms(pct(xs, 0.95)))  (\(count) rows)")
}

print("catalog benchmark: \(n) experts (+1 base) in \(args[1])")
print("publish (durable)                  p50 \(ms(pct(publish, 0.5)))  p95 \(ms(pct(publish, 0.95)))  total \(String(format: "%.1f s", total))")
try time("list (all \(n + 1))") { try r.list().count }
try time("list --lang de") { try r.list(ArtifactFilter(language: "de")).count }
try time("list --base <base>") { try r.list(ArtifactFilter(base: base)).count }
try time("show expert-\(names / 2) (newest version)") { try r.show("expert-\(names / 2)").blobs.count }
try time("show expert-\(names / 3):1.2.0") { try r.show("expert-\(names / 3):1.2.0").blobs.count }
let someDigest = try r.resolve("expert-7:1.3.0")
try time("show sha256:<12-digit prefix>") { try r.show("sha256:" + someDigest.hex.prefix(12)).blobs.count }
print("goal: list and show under 50 ms")
