// glossa-store-stress: a process that hammers an embedded registry, for the trust
// tests (StoreTests/RegistryTrustTests), which run many of these at once and SIGKILL
// them at random points.
//
//   glossa-store-stress publish ROOT WORKER COUNT
//       publishes COUNT experts `shared:<WORKER>.0.<i>` and tags each as
//       `shared:w<WORKER>-<i>` and moves `shared:hot`.
//   glossa-store-stress cycle ROOT SEED COUNT
//       publishes `k<SEED>:1.0.<i>`, tags it `k<SEED>:t<i>` and moves `k<SEED>:head`;
//       every 4th step removes the previous version, every 5th runs gc (grace 0).
//
// After each operation is durable it prints one line to stdout (unbuffered):
//   ACK publish <ref> <digest> | ACK tag <name:tag> <digest> | ACK rm <ref> <digest> | ACK gc <removed>
// The registry's base model must already be published (name tiny-base).
import Foundation
import GlossaCore
import Store
import StoreTesting

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
func fail(_ line: String) -> Never { FileHandle.standardError.write(Data(("glossa-store-stress: " + line + "\n").utf8)); exit(1) }

let args = CommandLine.arguments
guard args.count == 5, let a = UInt64(args[3]), let count = Int(args[4]) else {
    fail("usage: glossa-store-stress publish|cycle ROOT WORKER|SEED COUNT")
}
do {
    let r = try LocalRegistry(root: args[2])
    let base = try r.resolve("tiny-base")
    switch args[1] {
    case "publish":
        for i in 0..<count {
            let version = "\(a).0.\(i)"
            let d = try RegistryFixtures.publishExpert(r, base: base, name: "shared", version: version, seed: a * 10_000 + UInt64(i))
            say("ACK publish shared:\(version) \(d)")
            try r.tag("shared:\(version)", as: "w\(a)-\(i)")
            say("ACK tag shared:w\(a)-\(i) \(d)")
            try r.tag("shared:\(version)", as: "hot")
            say("ACK tag shared:hot \(d)")
        }
    case "cycle":
        let name = "k\(a)"
        for i in 0..<count {
            let version = "1.0.\(i)"
            let d = try RegistryFixtures.publishExpert(r, base: base, name: name, version: version, seed: a * 10_000 + UInt64(i))
            say("ACK publish \(name):\(version) \(d)")
            try r.tag("\(name):\(version)", as: "t\(i)")
            say("ACK tag \(name):t\(i) \(d)")
            try r.tag("\(name):\(version)", as: "head")
            say("ACK tag \(name):head \(d)")
            if i % 4 == 3 {
                let gone = try r.remove("\(name):1.0.\(i - 1)")
                say("ACK rm \(name):1.0.\(i - 1) \(gone.digest)")
            }
            if i % 5 == 4 {
                let g = try r.gc(gracePeriod: 0)
                say("ACK gc \(g.removedBlobs.count)")
            }
        }
    default:
        fail("unknown mode \(args[1])")
    }
} catch {
    fail("\(error)")
}
