import Foundation
import XCTest
import GlossaCore
import GRDB
import StoreTesting
@testable import Store

/// Issue 11, "Store consistency": each test is named after the defect it pins down and
/// failed on the code before its fix.
final class StoreConsistencyTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = freshDirectory("consistency") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func flipByte(_ d: Digest, in r: LocalRegistry) throws {
        let url = URL(fileURLWithPath: FileSystemLayout(root: r.root).blob(d))
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: url)
    }

    // MARK: item 7

    /// Re-storing bytes whose stored blob is damaged used to be a no-op (dedup trusted the
    /// file), so a re-import published a new version that could not be loaded. A blob about
    /// to be reused is verified first and rewritten from the incoming bytes when damaged,
    /// whether the reuse is the fresh-blob shortcut or a commit over an old blob.
    func testDedupRewritesADamagedBlobFromTheIncomingBytes() throws {
        let r = try LocalRegistry(root: dir)
        let base = try RegistryFixtures.publishBase(r)
        let first = try RegistryFixtures.expert(r, base: base, name: "de", version: "1.0.0", seed: 1)
        try r.publish(first)
        let module = first.tensors.keys.sorted()[0]
        let fresh = first.tensors[module]!.a, old = first.tensors[module]!.b
        try flipByte(fresh.digest, in: r)
        try flipByte(old.digest, in: r)
        // An hour old: putBlob refreshes it through a driver commit rather than the shortcut.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)],
                                              ofItemAtPath: FileSystemLayout(root: r.root).blob(old.digest))
        XCTAssertThrowsError(try r.tensor(fresh))

        // Same tensors (same seed), new version: every blob is a dedup hit.
        let again = try RegistryFixtures.publishExpert(r, base: base, name: "de", version: "1.0.1", seed: 1)
        guard case .expert(let m) = try r.manifest(again) else { return XCTFail("not an expert") }
        for (_, pair) in m.tensors {
            XCTAssertNoThrow(try r.tensor(pair.a), "the re-import must leave readable blobs")
            XCTAssertNoThrow(try r.tensor(pair.b), "the re-import must leave readable blobs")
        }
        let verified = try r.verify()
        XCTAssertEqual(verified.status, .clean, "\(verified.problems)")
    }

    // MARK: item 10

    /// An expert manifest stored and indexed with no catalog row: what a SIGKILL between
    /// indexing and the catalog write leaves.
    func killedPublish(_ r: LocalRegistry, _ m: ExpertManifest) throws -> Digest {
        let d = try r.putBlob(try ManifestCoding.canonicalBytes(AnyManifest(m)))
        try r.driver.indexManifest(d)
        return d
    }

    /// A publish killed after indexing, then a successful re-import of the same
    /// name:version with other content: reindex used to let digest order pick the winner,
    /// resurrecting the never-acknowledged copy. The acknowledged one must win, from the
    /// catalog row while there is one and from the publish marker when the catalog is lost.
    func testReindexKeepsTheAcknowledgedPublishNotAKilledOne() throws {
        var killed: Digest?, acknowledged: Digest?
        do {
            let r = try LocalRegistry(root: dir)
            let base = try RegistryFixtures.publishBase(r)
            // Seeds chosen so the killed copy sorts first by digest (digest order picks it).
            var seed: UInt64 = 10
            var pair: (ExpertManifest, ExpertManifest)?
            while pair == nil {
                let a = try RegistryFixtures.expert(r, base: base, name: "de", version: "1.0.0", seed: seed)
                let b = try RegistryFixtures.expert(r, base: base, name: "de", version: "1.0.0", seed: seed + 1)
                let da = Digest(of: try ManifestCoding.canonicalBytes(AnyManifest(a)))
                let db = Digest(of: try ManifestCoding.canonicalBytes(AnyManifest(b)))
                pair = da < db ? (a, b) : (db < da ? (b, a) : nil)
                seed += 2
            }
            killed = try killedPublish(r, pair!.0)
            acknowledged = try r.publish(pair!.1)
            XCTAssertLessThan(killed!, acknowledged!)

            let report = try r.reindex()
            XCTAssertEqual(try r.resolve("de:1.0.0"), acknowledged, "catalog intact: its row decides (\(report.skipped))")
        }
        // The catalog lost: only storage is left, and the publish marker decides.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/catalog.sqlite" + suffix) }
        let r = try LocalRegistry(root: dir)
        let report = try r.reindex()
        XCTAssertEqual(try r.resolve("de:1.0.0"), acknowledged, "catalog lost: the acknowledged publish must win (\(report.skipped))")
        XCTAssertTrue(report.skipped.contains { $0.contains(killed!.short) }, "the killed copy is reported: \(report.skipped)")
    }

    // MARK: item 11

    /// `rm` racing a publish: the publish of an expert on the base commits after rm has
    /// checked for dependents. rm used to unindex the base and delete its tag, then fail
    /// with "FOREIGN KEY constraint failed", and reindex then dropped everything. Now rm
    /// decides inside the catalog transaction and changes nothing when it is refused.
    func testRemoveRacingAPublishIsRefusedAndChangesNothing() throws {
        let r = try LocalRegistry(root: dir)
        let base = try RegistryFixtures.publishBase(r)
        try r.tag("tiny-base:1.0.0", as: "stable")
        let expert = try RegistryFixtures.expert(r, base: base, name: "de", version: "1.0.0", seed: 5)
        let bytes = try ManifestCoding.canonicalBytes(AnyManifest(expert))
        let expertDigest = try r.putBlob(bytes)
        try r.driver.indexManifest(expertDigest)

        let outcome = Outcome()
        let removal = Thread {
            do { outcome.set(.success(try r.remove("tiny-base:1.0.0"))) } catch { outcome.set(.failure(error)) }
        }
        // The racing publish holds the catalog's write lock while rm starts, and commits the
        // expert's row only after rm has looked for dependents.
        try r.catalog.write { db in
            removal.start()
            Thread.sleep(forTimeInterval: 0.5)
            try Catalog.insert(db, digest: expertDigest, manifest: AnyManifest(expert), manifestSize: bytes.count,
                               published: RegistryFixtures.created)
        }
        let result = outcome.wait()
        guard case .failure(let e) = result, case StoreError.inUse? = e as? StoreError else {
            return XCTFail("rm of a base an expert was just published on must be refused as in use, got \(result)")
        }
        XCTAssertEqual(try r.driver.indexedManifests().contains(base), true, "a refused rm must not unindex the base")
        XCTAssertEqual(try r.resolve("tiny-base:stable"), base, "a refused rm must not delete the tag")
        XCTAssertTrue(try r.driver.tags().contains(TagRecord(name: "tiny-base", tag: "stable", digest: base)))
        let verified = try r.verify()
        XCTAssertEqual(verified.status, .clean, "\(verified.problems)")
        XCTAssertEqual(try r.reindex().artifacts, 2, "reindex keeps the base and the expert")
        XCTAssertEqual(try r.resolve("de:1.0.0"), expertDigest)
    }

    /// Lineage edges other than `parent` (input, composite, subject, expert) are foreign
    /// keys: the catalog itself refuses to lose the target of an edge.
    func testLineageEdgesAreForeignKeys() throws {
        let r = try LocalRegistry(root: dir)
        let base = try RegistryFixtures.publishBase(r)
        let expert = try RegistryFixtures.publishExpert(r, base: base, name: "de", version: "1.0.0", seed: 3)
        let report = try r.putBlob(Array(#"{"wer":0.5}"#.utf8))
        try r.publish(EvalReportManifest(subject: expert, report: report, summary: ["wer": 0.5],
                                         created: RegistryFixtures.created, toolVersion: "glossa-test"))
        XCTAssertThrowsError(try r.catalog.write { db in
            try db.execute(sql: "DELETE FROM artifacts WHERE digest = ?", arguments: [expert.description])
        }, "deleting the subject of an eval report must violate a foreign key")
        XCTAssertEqual(try r.resolve("de:1.0.0"), expert)
    }

    /// A registry whose catalog was made by the first schema (no lineage foreign keys)
    /// opens, keeps its rows, and gains the foreign keys.
    func testOldSchemaRegistryOpensAndGainsLineageForeignKeys() throws {
        var expert: Digest?
        do {
            let r = try LocalRegistry(root: dir)
            let base = try RegistryFixtures.publishBase(r)
            expert = try RegistryFixtures.publishExpert(r, base: base, name: "de", version: "1.0.0", seed: 3)
            let report = try r.putBlob(Array(#"{"wer":0.5}"#.utf8))
            try r.publish(EvalReportManifest(subject: expert!, report: report, summary: ["wer": 0.5],
                                             created: RegistryFixtures.created, toolVersion: "glossa-test"))
        }
        try downgradeToFirstSchema()

        let r = try LocalRegistry(root: dir)
        XCTAssertEqual(try r.resolve("de:1.0.0"), expert)
        XCTAssertEqual(try r.list().count, 3)
        let verified = try r.verify()
        XCTAssertEqual(verified.status, .clean, "\(verified.problems)")
        XCTAssertThrowsError(try r.catalog.write { db in
            try db.execute(sql: "DELETE FROM artifacts WHERE digest = ?", arguments: [expert!.description])
        }, "after the migration the eval report's subject edge is a foreign key")
    }
    /// Turns catalog.sqlite back into what the first schema made: lineage without the
    /// foreign key, and only the first migration recorded. `orphan` is a digest whose row
    /// is then deleted with foreign keys off, as an rm racing a publish could leave it.
    func downgradeToFirstSchema(orphaning orphan: Digest? = nil) throws {
        let old = try DatabaseQueue(path: dir + "/catalog.sqlite")
        try old.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                try db.execute(sql: """
                    CREATE TABLE lineage_v1 (
                        artifact TEXT NOT NULL REFERENCES artifacts(digest) ON DELETE CASCADE,
                        relation TEXT NOT NULL,
                        target TEXT NOT NULL,
                        PRIMARY KEY (artifact, relation, target)
                    ) WITHOUT ROWID;
                    INSERT INTO lineage_v1 SELECT artifact, relation, target FROM lineage;
                    DROP TABLE lineage;
                    ALTER TABLE lineage_v1 RENAME TO lineage;
                    CREATE INDEX lineage_target ON lineage(target);
                    DELETE FROM grdb_migrations WHERE identifier != 'v1-artifacts-tags-languages-lora-metrics-lineage-blobs';
                    """)
                if let orphan {
                    for table in ["languages", "metrics", "lineage", "blob_refs", "tags"] {
                        try db.execute(sql: "DELETE FROM \(table) WHERE artifact = ?", arguments: [orphan.description])
                    }
                    try db.execute(sql: "DELETE FROM artifacts WHERE digest = ?", arguments: [orphan.description])
                }
                return .commit
            }
        }
        try old.close()
    }

    /// An old registry where an rm that raced a publish removed the subject of an eval
    /// report (nothing stopped it then): the migration cannot make that edge a foreign
    /// key, so verify names it, with how to fix it, and `--repair` restores it once the
    /// subject is back.
    func testVerifyReportsALineageEdgeToAMissingArtifact() throws {
        var expert: Digest?, eval: Digest?
        do {
            let r = try LocalRegistry(root: dir)
            let base = try RegistryFixtures.publishBase(r)
            expert = try RegistryFixtures.publishExpert(r, base: base, name: "de", version: "1.0.0", seed: 3)
            let report = try r.putBlob(Array(#"{"wer":0.5}"#.utf8))
            eval = try r.publish(EvalReportManifest(subject: expert!, report: report, summary: ["wer": 0.5],
                                                    created: RegistryFixtures.created, toolVersion: "glossa-test"))
            try r.driver.unindexManifest(expert!)
        }
        try downgradeToFirstSchema(orphaning: expert)

        let r = try LocalRegistry(root: dir)
        let found = try r.verify()
        XCTAssertEqual(found.status, .damaged)
        let dangling = found.problems.filter { $0.kind == .danglingLineage }
        XCTAssertEqual(dangling.map(\.digest), [eval], "\(found.problems)")
        XCTAssertTrue(dangling.first?.detail.contains(expert!.short) == true && dangling.first?.detail.contains("subject") == true,
                      "\(dangling)")
        XCTAssertEqual(try r.verify(repair: true).status, .damaged, "the subject is gone: nothing to repair it from")

        // The subject comes back (re-imported): repair turns the edge into a foreign key again.
        try r.driver.indexManifest(expert!)
        let repaired = try r.verify(repair: true)
        XCTAssertEqual(repaired.status, .repaired, "\(repaired.problems)")
        let clean = try r.verify()
        XCTAssertEqual(clean.status, .clean, "\(clean.problems)")
        XCTAssertThrowsError(try r.catalog.write { db in
            try db.execute(sql: "DELETE FROM artifacts WHERE digest = ?", arguments: [expert!.description])
        }, "the repaired edge is a foreign key")
    }
}

/// A result handed from a worker thread to the test.
final class Outcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: Result<ArtifactSummary, any Error>?
    func set(_ v: Result<ArtifactSummary, any Error>) { value = v; done.signal() }
    func wait() -> Result<ArtifactSummary, any Error> { done.wait(); return value! }
}
