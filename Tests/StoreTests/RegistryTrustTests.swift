import Foundation
import XCTest
import GlossaCore
import StoreTesting
@testable import Store

/// Crash, concurrency and corruption tests (issue 2, "Trust"), using
/// `glossa-store-stress` processes. Together they run in well under two minutes.
final class RegistryTrustTests: XCTestCase {
    struct RNG: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    /// The stress tool sits next to the test bundle (`StoreTests` depends on it).
    func stressTool() throws -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        for candidate in [dir, Bundle(for: Self.self).bundleURL.deletingLastPathComponent()] {
            let p = candidate.appendingPathComponent("glossa-store-stress").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw Peer.missing("glossa-store-stress not built next to the tests (\(dir.path)); run swift build --build-tests")
    }

    final class Run {
        let process = Process()
        let out = Pipe(), err = Pipe()
        var stdout = Data()
        init(_ tool: String, _ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = args
            process.standardOutput = out; process.standardError = err
            try process.run()
        }
        /// Waits, then returns the complete ACK lines printed.
        func finish() -> [String] {
            stdout = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: stdout, as: UTF8.self)
            // A line cut by the kill has no newline: it was never fully acknowledged.
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        var stderr: String { String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    }

    func testSIGKILLDuringPublishTagAndGCLosesNothingAcknowledged() throws {
        let tool = try stressTool()
        let dir = freshDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RegistryFixtures.publishBase(try LocalRegistry(root: dir))

        var rng = RNG(state: 2026)
        var acks: [Int: [String]] = [:]
        var killed = 0
        var lastKinds: [String: Int] = [:]
        for k in 0..<30 {
            // COUNT is far more than a run can do before the kill, on any disk.
            let run = try Run(tool, ["cycle", dir, String(k), "100000"])
            usleep(UInt32(20_000 + rng.next() % 900_000))
            if run.process.isRunning { kill(run.process.processIdentifier, SIGKILL) }
            let lines = run.finish()
            if run.process.terminationReason == .uncaughtSignal { killed += 1 } else {
                XCTAssertEqual(run.process.terminationStatus, 0, "cycle \(k) failed: \(run.stderr)")
            }
            acks[k] = lines
            lastKinds[lines.last.map { String($0.split(separator: " ")[1]) } ?? "none", default: 0] += 1
        }
        XCTAssertGreaterThanOrEqual(killed, 20, "most runs must die by SIGKILL mid-way (\(killed) did)")

        let r = try LocalRegistry(root: dir)
        let repaired = try r.verify(repair: true)
        XCTAssertNotEqual(repaired.status, .damaged, "\(repaired.problems)")
        let again = try r.verify()
        XCTAssertEqual(again.status, .clean, "\(again.problems)")

        for (k, lines) in acks {
            var published: [String: Digest] = [:], removed = Set<String>(), tags: [String: Digest] = [:]
            for line in lines {
                let f = line.split(separator: " ").map(String.init)
                XCTAssertEqual(f.first, "ACK", line)
                switch f[1] {
                case "publish": published[f[2]] = try Digest(parsing: f[3])
                case "rm": removed.insert(f[2])
                case "tag": tags[f[2]] = try Digest(parsing: f[3])
                default: break
                }
            }
            // An rm in flight at the kill may have happened: the step after an ACKed
            // head tag at i % 4 == 3 removes version i-1.
            var maybeRemoved = Set<String>()
            if let last = lines.last, last.contains(":head "), let i = published.count > 0 ? published.count - 1 : nil, i % 4 == 3 {
                maybeRemoved.insert("k\(k):1.0.\(i - 1)")
            }
            for (ref, d) in published where !removed.contains(ref) && !maybeRemoved.contains(ref) {
                XCTAssertEqual(try? r.resolve(ref), d, "acknowledged publish \(ref) lost (run \(k))")
                XCTAssertNoThrow(try r.show(ref), "acknowledged \(ref) unreadable")
            }
            for ref in removed { XCTAssertThrowsError(try r.resolve(ref), "acknowledged removal of \(ref) undone") }
            for (tag, d) in tags where tag.hasSuffix(":head") == false {
                let target = published.first { $0.value == d }?.key
                if let target, removed.contains(target) || maybeRemoved.contains(target) { continue }
                XCTAssertEqual(try? r.resolve(tag), d, "acknowledged tag \(tag) lost (run \(k))")
            }
            if let head = try? r.resolve("k\(k):head") {
                // The head tag is moved only to a version this run already acknowledged.
                XCTAssertTrue(published.values.contains(head), "k\(k):head points at \(head.short), not a version run \(k) published")
            }
        }
        // Everything reachable still reads back bit-exactly.
        for s in try r.list() { XCTAssertNoThrow(try r.show(s.digest.description)) }
        print("kill test: \(killed)/30 killed; last acknowledged operation before the kill: \(lastKinds); "
              + "verify --repair fixed: \(Dictionary(grouping: repaired.problems, by: \.kind.rawValue).mapValues(\.count))")
    }

    func testEightProcessesPublishingAndTaggingLoseNothing() throws {
        let tool = try stressTool()
        let dir = freshDirectory("concurrent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RegistryFixtures.publishBase(try LocalRegistry(root: dir))
        let runs = try (0..<8).map { w in try Run(tool, ["publish", dir, String(w + 1), "8"]) }
        var published: [String: Digest] = [:], tags: [String: Digest] = [:], hot = Set<Digest>()
        for (w, run) in runs.enumerated() {
            let lines = run.finish()
            XCTAssertEqual(run.process.terminationStatus, 0, "worker \(w + 1) failed: \(run.stderr)")
            for line in lines {
                let f = line.split(separator: " ").map(String.init)
                if f[1] == "publish" { published[f[2]] = try Digest(parsing: f[3]) }
                if f[1] == "tag" {
                    if f[2] == "shared:hot" { hot.insert(try Digest(parsing: f[3])) } else { tags[f[2]] = try Digest(parsing: f[3]) }
                }
            }
        }
        XCTAssertEqual(published.count, 64)
        XCTAssertEqual(tags.count, 64)
        let r = try LocalRegistry(root: dir)
        let report = try r.verify()
        XCTAssertEqual(report.status, .clean, "\(report.problems)")
        XCTAssertEqual(try r.list(ArtifactFilter(name: "shared")).count, 64)
        for (ref, d) in published { XCTAssertEqual(try r.resolve(ref), d, ref) }
        for (tag, d) in tags { XCTAssertEqual(try r.resolve(tag), d, tag) }
        XCTAssertTrue(hot.contains(try r.resolve("shared:hot")))
        XCTAssertEqual(try r.resolve("shared"), published["shared:8.0.7"], "newest by semver")
    }

    func testAFlippedByteInAnyBlobIsDetectedOnReadAndByVerify() throws {
        let dir = freshDirectory("flip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try LocalRegistry(root: dir)
        let base = try RegistryFixtures.publishBase(r)
        try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        try RegistryFixtures.publishExpert(r, base: base, name: "fr-base", version: "1.0.0", language: "fr", seed: 2)
        let layout = FileSystemLayout(root: dir)
        var rng = RNG(state: 7)
        let blobs = try r.driver.list()
        XCTAssertGreaterThan(blobs.count, 10)
        for d in blobs {
            let url = URL(fileURLWithPath: layout.blob(d))
            let original = try Data(contentsOf: url)
            var bad = original
            let i = Int(rng.next() % UInt64(bad.count))
            bad[i] ^= UInt8(1 << (rng.next() % 8))
            try bad.write(to: url)
            let users = r.users(of: d)
            XCTAssertFalse(users.isEmpty, "every blob here belongs to an artifact")
            XCTAssertThrowsError(try r.blob(d), "flip at byte \(i) of \(d.short) not detected on read") { e in
                guard case StoreError.blobCorrupt(d, _, _, let named)? = e as? StoreError else { return XCTFail("\(e)") }
                XCTAssertEqual(named, users)
            }
            let rep = try r.verify()
            XCTAssertEqual(rep.status, .damaged)
            XCTAssertEqual(rep.problems.count, 1, "\(rep.problems)")
            XCTAssertEqual(rep.problems.first?.kind, .corruptBlob)
            XCTAssertEqual(rep.problems.first?.digest, d)
            XCTAssertEqual(rep.problems.first?.usedBy, users)
            try original.write(to: url)
        }
        XCTAssertEqual(try r.verify().status, .clean)
    }
}
