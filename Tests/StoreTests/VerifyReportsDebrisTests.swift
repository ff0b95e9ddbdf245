import Foundation
import XCTest
import GlossaCore
import StoreTesting
@testable import Store

/// `verify` without `--repair` used to say "clean" (exit 0) over an interrupted publish
/// (a manifest in the index with no catalog row) and over old `tmp/*.partial` files.
/// Both are reported now (status damaged, exit 4); `--repair` fixes them (exit 3).
final class VerifyReportsDebrisTests: XCTestCase {
    func testInterruptedPublishAndStaleTemporariesAreReportedThenRepaired() throws {
        let dir = freshDirectory("verify-debris")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try LocalRegistry(root: dir)
        let base = try RegistryFixtures.publishBase(r)
        XCTAssertEqual(try r.verify().status, .clean)

        // An interrupted publish: blobs and manifest stored and indexed, no catalog row
        // (what a SIGKILL between indexing and the catalog write leaves).
        let m = try RegistryFixtures.expert(r, base: base, name: "cut", version: "1.0.0", seed: 3)
        let manifestDigest = try r.putBlob(try ManifestCoding.canonicalBytes(AnyManifest(m)))
        try r.driver.indexManifest(manifestDigest)
        // A write interrupted two hours ago, and one in progress now (not reported).
        let old = dir + "/tmp/4242-1.partial", fresh = dir + "/tmp/4242-2.partial"
        XCTAssertTrue(FileManager.default.createFile(atPath: old, contents: Data([1, 2, 3])))
        XCTAssertTrue(FileManager.default.createFile(atPath: fresh, contents: Data([4])))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old)

        let report = try r.verify()
        XCTAssertEqual(report.status, .damaged, "problems left unrepaired must not be reported as clean")
        let kinds = report.problems.map(\.kind)
        XCTAssertEqual(kinds.sorted(by: { $0.rawValue < $1.rawValue }), [.staleTemporary, .uncataloguedManifest])
        XCTAssertEqual(report.problems.first { $0.kind == .uncataloguedManifest }?.digest, manifestDigest)
        XCTAssertEqual(report.problems.first { $0.kind == .staleTemporary }?.location, old)
        XCTAssertTrue(report.problems.allSatisfy { !$0.repaired && $0.detail.contains("--repair") })
        XCTAssertTrue(FileManager.default.fileExists(atPath: old), "verify without --repair changes nothing")

        let fixed = try r.verify(repair: true)
        XCTAssertEqual(fixed.status, .repaired)
        XCTAssertEqual(try r.resolve("cut:1.0.0"), manifestDigest, "the complete interrupted publish is catalogued")
        XCTAssertFalse(FileManager.default.fileExists(atPath: old))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh), "a young temporary may belong to a write in progress")
        XCTAssertEqual(try r.verify().status, .clean)
    }
}
