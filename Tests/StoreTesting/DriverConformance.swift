import Foundation
import GlossaCore
import Store

/// The conformance suite every `BlobDriver` must pass (after distribution's
/// `testsuites.Driver`). Each check builds on a fresh, empty driver from `make` and
/// throws `ConformanceFailure` naming what broke. A test target runs them all:
///
///     for check in DriverConformance.checks {
///         XCTAssertNoThrow(try check.run { try FileSystemDriver(root: freshDir()) }, check.name)
///     }
public enum DriverConformance {
    public struct Check: Sendable {
        public let name: String
        let body: @Sendable (any BlobDriver) throws -> Void
        /// Runs the check against a fresh driver.
        public func run(_ make: () throws -> any BlobDriver) throws { try body(try make()) }
    }

    public struct ConformanceFailure: Error, CustomStringConvertible {
        public let description: String
    }

    static func expect(_ ok: Bool, _ what: @autoclosure () -> String) throws {
        if !ok { throw ConformanceFailure(description: what()) }
    }

    static func bytes(_ n: Int, seed: UInt8) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }

    public static let checks: [Check] = [
        Check(name: "empty driver lists nothing and gets nil") { d in
            let x = Digest(of: [1, 2, 3])
            try expect(try d.list().isEmpty, "list of a new driver is not empty")
            try expect(try d.get(x) == nil, "get of an absent blob is not nil")
            try expect(try d.stat(x) == nil, "stat of an absent blob is not nil")
            try d.delete(x) // deleting an absent blob is fine
        },
        Check(name: "put then get, stat and list") { d in
            for (i, n) in [0, 1, 4096, 1_000_003].enumerated() {
                let b = bytes(n, seed: UInt8(i))
                let dg = Digest(of: b)
                try d.put(b, as: dg)
                try expect(try d.get(dg) == b, "get returned different bytes for a \(n)-byte blob")
                let st = try d.stat(dg)
                try expect(st?.size == n, "stat size wrong for a \(n)-byte blob")
                try expect(abs(st!.modified.timeIntervalSinceNow) < 600, "stat modified time is not recent")
            }
            try expect(try d.list().count == 4, "list does not hold the 4 blobs put")
            try expect(try d.list() == (try d.list()).sorted(), "list is not sorted")
        },
        Check(name: "commit refuses a wrong digest and stores nothing") { d in
            let b = bytes(100, seed: 1)
            let wrong = Digest(of: [9])
            do {
                try d.put(b, as: wrong)
                throw ConformanceFailure(description: "commit accepted bytes under the wrong digest")
            } catch let e as StoreError {
                guard case .digestMismatch(let exp, let act, _) = e, exp == wrong, act == Digest(of: b) else {
                    throw ConformanceFailure(description: "wrong error for a digest mismatch: \(e)")
                }
            }
            try expect(try d.get(wrong) == nil, "a refused write became visible")
            try expect(try d.list().isEmpty, "a refused write left a blob")
        },
        Check(name: "commit checks the content digest the caller defines") { d in
            // Stored bytes differ from content (as with the codec); the check decides.
            let content = bytes(64, seed: 2)
            let stored = content.reversed().map { $0 }
            let dg = Digest(of: content)
            try d.put(stored, as: dg, contentDigest: { Digest(of: Array($0).reversed()) })
            try expect(try d.get(dg) == stored, "stored bytes not returned as written")
        },
        Check(name: "writes are invisible until commit; cancel leaves nothing") { d in
            let b = bytes(5000, seed: 3)
            let dg = Digest(of: b)
            let w = try d.beginWrite()
            try w.write(Array(b[..<2000]))
            try expect(try d.get(dg) == nil, "partial write visible before commit")
            try w.write(Array(b[2000...]))
            w.cancel()
            try expect(try d.get(dg) == nil, "cancelled write visible")
            try expect(try d.list().isEmpty, "cancelled write listed")
            try expect(try d.staleTemporaries(olderThan: Date().addingTimeInterval(3600)).isEmpty, "cancel left a temporary object")
        },
        Check(name: "put is idempotent and delete removes") { d in
            let b = bytes(10, seed: 4)
            let dg = Digest(of: b)
            try d.put(b, as: dg)
            try d.put(b, as: dg)
            try expect(try d.list() == [dg], "same blob put twice is listed \((try? d.list().count) ?? -1) times")
            try d.delete(dg)
            try expect(try d.get(dg) == nil && (try d.list()).isEmpty, "deleted blob still there")
        },
        Check(name: "manifest index adds, lists and removes") { d in
            let a = Digest(of: [1]), b = Digest(of: [2])
            try d.indexManifest(b); try d.indexManifest(a); try d.indexManifest(a)
            let listed = try d.indexedManifests()
            try expect(listed == [a, b].sorted(), "index lists \(listed)")
            try d.unindexManifest(a); try d.unindexManifest(a)
            try expect(try d.indexedManifests() == [b], "unindex did not remove")
            try expect(try d.list().isEmpty, "index entries must not appear as blobs")
        },
        Check(name: "acknowledged publishes are remembered by the index, and forgotten with it") { d in
            let a = Digest(of: [1]), b = Digest(of: [2])
            try d.indexManifest(a); try d.indexManifest(b)
            try expect(try d.acknowledgedManifests().isEmpty, "nothing acknowledged yet")
            try d.acknowledgeManifest(a); try d.acknowledgeManifest(a); try d.indexManifest(a)
            let acknowledged = try d.acknowledgedManifests()
            try expect(acknowledged == [a], "acknowledged: \(acknowledged)")
            try expect(try d.indexedManifests() == [a, b].sorted(), "acknowledging keeps the index entry")
            try d.unindexManifest(a)
            try expect(try d.acknowledgedManifests().isEmpty, "an unindexed manifest is not acknowledged")
        },
        Check(name: "tags set, move atomically, list and remove") { d in
            let a = Digest(of: [1]), b = Digest(of: [2])
            try d.setTag(name: "de-base", tag: "stable", digest: a)
            try d.setTag(name: "de-base", tag: "stable", digest: b)
            try d.setTag(name: "de-base", tag: "best", digest: a)
            try d.setTag(name: "fr", tag: "stable", digest: a)
            try expect(try d.tags() == [TagRecord(name: "de-base", tag: "best", digest: a), TagRecord(name: "de-base", tag: "stable", digest: b),
                                        TagRecord(name: "fr", tag: "stable", digest: a)], "tags listed wrong")
            try d.removeTag(name: "de-base", tag: "stable"); try d.removeTag(name: "de-base", tag: "stable")
            try expect(try d.tags().count == 2, "removeTag did not remove")
            try expect(try d.list().isEmpty, "tags must not appear as blobs")
        },
        Check(name: "interrupted writes show up as stale temporaries and can be removed") { d in
            let w = try d.beginWrite()
            try w.write(bytes(10, seed: 5))
            // Not committed, not cancelled: as if the process died here.
            let stale = try d.staleTemporaries(olderThan: Date().addingTimeInterval(60))
            try expect(stale.count == 1, "expected one temporary, found \(stale.count)")
            try expect(try d.staleTemporaries(olderThan: Date().addingTimeInterval(-3600)).isEmpty, "a fresh temporary counted as stale")
            try d.removeTemporary(stale[0])
            try expect(try d.staleTemporaries(olderThan: Date().addingTimeInterval(60)).isEmpty, "temporary not removed")
            w.cancel()
        },
        Check(name: "concurrent puts of the same and different blobs") { d in
            let blobs = (0..<16).map { bytes(20_000 + $0, seed: UInt8($0 % 4)) }
            let errors = ErrorBox()
            DispatchQueue.concurrentPerform(iterations: 64) { i in
                let b = blobs[i % 16]
                do { try d.put(b, as: Digest(of: b)) } catch { errors.add("\(error)") }
            }
            try expect(errors.all.isEmpty, "concurrent puts failed: \(errors.all.first ?? "")")
            try expect(try d.list() == blobs.map { Digest(of: $0) }.sorted(), "concurrent puts lost blobs")
            for b in blobs { try expect(try d.get(Digest(of: b)) == b, "concurrent put corrupted a blob") }
        },
    ]
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
