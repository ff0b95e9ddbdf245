import Foundation
import XCTest
import GlossaCore
import StoreTesting
@testable import Store

final class LocalRegistryTests: XCTestCase {
    var dir = ""
    var r: LocalRegistry!

    override func setUpWithError() throws {
        dir = freshDirectory("registry")
        r = try LocalRegistry(root: dir)
    }

    override func tearDown() { r = nil; try? FileManager.default.removeItem(atPath: dir) }

    func testPublishResolveListShow() throws {
        let base = try RegistryFixtures.publishBase(r)
        let v1 = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        let v2 = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.10.0", seed: 2)
        let v9 = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.9.0", seed: 3)
        let rc = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "2.0.0-rc.1", seed: 4)
        let fr = try RegistryFixtures.publishExpert(r, base: base, name: "fr-base", version: "0.1.0", language: "fr", seed: 5)

        XCTAssertEqual(try r.resolve("de-base"), v2, "name = newest release by semver (1.10.0 > 1.9.0; rc excluded)")
        XCTAssertEqual(try r.resolve("de-base:1.9.0"), v9)
        XCTAssertEqual(try r.resolve("de-base:2.0.0-rc.1"), rc)
        XCTAssertEqual(try r.resolve(v1.description), v1)
        XCTAssertEqual(try r.resolve("sha256:" + String(fr.hex.prefix(12))), fr)
        XCTAssertEqual(try r.resolve("tiny-base"), base)

        XCTAssertEqual(try r.list().count, 6)
        XCTAssertEqual(try r.list(ArtifactFilter(language: "fr")).map(\.digest), [fr])
        XCTAssertEqual(try r.list(ArtifactFilter(kind: .expert, language: "de")).map(\.version), ["1.0.0", "1.9.0", "1.10.0", "2.0.0-rc.1"])
        XCTAssertEqual(try r.list(ArtifactFilter(base: base)).count, 5)
        XCTAssertEqual(try r.list(ArtifactFilter(kind: .base)).map(\.digest), [base])

        let d = try r.show("de-base:1.0.0")
        XCTAssertEqual(d.summary.digest, v1)
        XCTAssertEqual(d.summary.languages, ["de"])
        XCTAssertEqual(d.metrics["wer"], 0.25)
        XCTAssertEqual(d.lineage.first, ArtifactEdge(relation: "base", target: base))
        XCTAssertEqual(d.blobs.count, 4)
        XCTAssertTrue(d.blobs.allSatisfy { ($0.storedSize ?? 0) > 0 })
        guard case .expert(let m) = d.manifest else { return XCTFail("not an expert") }
        XCTAssertEqual(try r.tensor(m.tensors["model.decoder.layers.0.self_attn.q_proj"]!.a),
                       RegistryFixtures.tensor(.f32, [2, 8], seed: 1000))
        XCTAssertEqual(try r.show("tiny-base").dependents.count, 5)

        // Publishing the same manifest again is a no-op; same name:version with other content is refused.
        let again = try RegistryFixtures.expert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        XCTAssertEqual(try r.publish(again), v1)
        let other = try RegistryFixtures.expert(r, base: base, name: "de-base", version: "1.0.0", seed: 99)
        XCTAssertThrowsError(try r.publish(other)) { e in
            guard case StoreError.versionConflict("de-base", "1.0.0", v1)? = e as? StoreError else { return XCTFail("\(e)") }
        }
    }

    func testSharedTensorsAreStoredOnce() throws {
        let base = try RegistryFixtures.publishBase(r)
        let before = try r.driver.list().count
        // Same seed: identical tensors under another name.
        try RegistryFixtures.publishExpert(r, base: base, name: "a", version: "1.0.0", seed: 7)
        let mid = try r.driver.list().count
        try RegistryFixtures.publishExpert(r, base: base, name: "b", version: "1.0.0", seed: 7)
        XCTAssertEqual(mid - before, 5, "4 tensors + 1 manifest")
        XCTAssertEqual(try r.driver.list().count - mid, 1, "only the new manifest")
    }

    func testRefErrorsAreTypedWithCandidates() throws {
        let base = try RegistryFixtures.publishBase(r)
        let a = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        try r.tag("de-base:1.0.0", as: "stable")
        XCTAssertThrowsError(try r.resolve("de-bas")) { e in
            guard case StoreError.unknownRef("de-bas", let c)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(c, ["de-base"])
        }
        XCTAssertThrowsError(try r.resolve("de-base:3.0.0")) { e in
            guard case StoreError.unknownRef(_, let c)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(c, ["de-base:1.0.0", "de-base:stable"])
        }
        XCTAssertThrowsError(try r.resolve("../etc")) { e in
            guard case StoreError.invalidRef? = e as? StoreError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try r.resolve("sha256:zz"))
        // Ambiguous prefix: find two artifacts sharing a first hex digit.
        let all = try r.list().map(\.digest) + [a]
        let groups = Dictionary(grouping: all, by: { $0.hex.prefix(1) })
        if let pair = groups.values.first(where: { Set($0).count > 1 }) {
            XCTAssertThrowsError(try r.resolve("sha256:" + pair[0].hex.prefix(1) + "")) // too short
            var k = 1
            while pair[0].hex.prefix(k + 1) == pair[1].hex.prefix(k + 1) { k += 1 }
            if k >= 4 {
                XCTAssertThrowsError(try r.resolve("sha256:" + pair[0].hex.prefix(k))) { e in
                    guard case StoreError.ambiguousRef? = e as? StoreError else { return XCTFail("\(e)") }
                }
            }
        }
    }

    func testPublishRefusesMissingBlobsAndBase() throws {
        let base = try RegistryFixtures.publishBase(r)
        var m = try RegistryFixtures.expert(r, base: base, name: "x", version: "1.0.0", seed: 1)
        let ghost = Digest(of: [1, 2, 3, 4])
        m.tensors["model.decoder.layers.0.self_attn.q_proj"]!.a.digest = ghost
        XCTAssertThrowsError(try r.publish(m)) { e in
            guard case StoreError.missingBlobs(_, let ds)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(ds, [ghost])
        }
        let m2 = try RegistryFixtures.expert(r, base: Digest(of: [9]), name: "y", version: "1.0.0", seed: 2)
        XCTAssertThrowsError(try r.publish(m2)) { e in
            guard case StoreError.missingArtifact(_, "base", _)? = e as? StoreError else { return XCTFail("\(e)") }
        }
        var bad = m2; bad.base = base; bad.name = "Bad Name"
        XCTAssertThrowsError(try r.publish(bad)) { e in
            guard case StoreError.invalidManifest(_, let me)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(me.field, "name")
        }
        XCTAssertEqual(try r.list(ArtifactFilter(kind: .expert)), [], "nothing written by refused publishes")
    }

    func testTagMoveUntagRemove() throws {
        let base = try RegistryFixtures.publishBase(r)
        let v1 = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        let v2 = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "2.0.0", seed: 2)
        XCTAssertNil(try r.tag("de-base:1.0.0", as: "stable").previous)
        XCTAssertEqual(try r.resolve("de-base:stable"), v1)
        XCTAssertEqual(try r.tag("de-base:2.0.0", as: "stable").previous, v1)
        XCTAssertEqual(try r.resolve("de-base:stable"), v2)
        XCTAssertEqual(try r.summary("de-base:2.0.0").tags, ["de-base:stable"])
        XCTAssertThrowsError(try r.tag("de-base", as: "1.0.1"), "tags must not look like versions")
        XCTAssertThrowsError(try r.tag("de-base", as: "../x"))
        XCTAssertEqual(try r.untag(name: "de-base", tag: "stable"), v2)
        XCTAssertThrowsError(try r.resolve("de-base:stable"))

        XCTAssertThrowsError(try r.remove("tiny-base")) { e in
            guard case StoreError.inUse(_, let by)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(by.count, 2)
        }
        try r.tag("de-base:1.0.0", as: "old")
        XCTAssertEqual(try r.remove("de-base:1.0.0").digest, v1)
        XCTAssertThrowsError(try r.resolve("de-base:1.0.0"))
        XCTAssertEqual(try r.tags(), [])
        XCTAssertEqual(try r.driver.tags(), [])
        XCTAssertEqual(try r.verify().status, .clean)
    }

    func testGCRemovesOnlyUnreachableAfterGrace() throws {
        let base = try RegistryFixtures.publishBase(r)
        try RegistryFixtures.publishExpert(r, base: base, name: "keep", version: "1.0.0", seed: 1)
        try RegistryFixtures.publishExpert(r, base: base, name: "drop", version: "1.0.0", seed: 2)
        let orphan = try r.putBlob(Array("orphan".utf8))
        try r.remove("drop")
        let total = try r.driver.list().count
        // Within the grace period nothing is removed.
        XCTAssertEqual(try r.gc(gracePeriod: 3600).removedBlobs, [])
        let dry = try r.gc(dryRun: true, gracePeriod: 0)
        XCTAssertEqual(dry.removedBlobs.count, 6, "4 tensors + manifest of 'drop' + orphan")
        XCTAssertTrue(dry.removedBlobs.contains(orphan))
        XCTAssertEqual(try r.driver.list().count, total, "dry run removes nothing")
        let real = try r.gc(gracePeriod: 0)
        XCTAssertEqual(real.removedBlobs, dry.removedBlobs)
        XCTAssertEqual(try r.driver.list().count, total - 6)
        XCTAssertEqual(try r.verify().status, .clean)
        XCTAssertNoThrow(try r.show("keep"))
    }

    func testReindexRebuildsCatalogFromManifests() throws {
        let base = try RegistryFixtures.publishBase(r)
        try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        try RegistryFixtures.publishExpert(r, base: base, name: "fr-base", version: "1.0.0", language: "fr", seed: 2)
        try r.tag("fr-base", as: "stable")
        let before = try r.list()
        r = nil
        try FileManager.default.removeItem(atPath: dir + "/catalog.sqlite")
        try? FileManager.default.removeItem(atPath: dir + "/catalog.sqlite-wal")
        try? FileManager.default.removeItem(atPath: dir + "/catalog.sqlite-shm")
        r = try LocalRegistry(root: dir)
        XCTAssertEqual(try r.list(), [])
        let rep = try r.reindex()
        XCTAssertEqual(rep.artifacts, 3); XCTAssertEqual(rep.tags, 1); XCTAssertEqual(rep.skipped, [])
        XCTAssertEqual(try r.list(), before)
        XCTAssertEqual(try r.verify().status, .clean)
    }

    func testFlippedByteIsDetectedOnReadAndByVerify() throws {
        let base = try RegistryFixtures.publishBase(r)
        let e = try RegistryFixtures.publishExpert(r, base: base, name: "de-base", version: "1.0.0", seed: 1)
        guard case .expert(let m) = try r.manifest(e) else { return XCTFail() }
        let victim = m.tensors.values.first!.a.digest
        let path = FileSystemLayout(root: dir).blob(victim)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try r.blob(victim)) { err in
            guard case StoreError.blobCorrupt(victim, _, _, let users)? = err as? StoreError else { return XCTFail("\(err)") }
            XCTAssertEqual(users.count, 1)
            XCTAssertTrue(users[0].contains("de-base:1.0.0"), users[0])
            XCTAssertTrue("\(err)".contains(victim.description))
        }
        let rep = try r.verify()
        XCTAssertEqual(rep.status, .damaged)
        XCTAssertEqual(rep.problems.map(\.kind), [.corruptBlob])
        XCTAssertEqual(rep.problems[0].digest, victim)
        XCTAssertEqual(rep.problems[0].usedBy.count, 1)
        // Repair drops the broken expert, keeps the base.
        let fixed = try r.verify(repair: true)
        XCTAssertEqual(fixed.status, .damaged, "data was lost, even though the catalog is consistent again")
        XCTAssertTrue(fixed.problems.contains { $0.kind == .droppedArtifact && $0.digest == e })
        XCTAssertEqual(try r.verify().status, .clean)
        XCTAssertThrowsError(try r.resolve("de-base"))
        XCTAssertNoThrow(try r.show("tiny-base"))
    }
}
