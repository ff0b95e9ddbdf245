import Foundation
import XCTest
import GlossaCore
import StoreTesting
@testable import Store

func freshDirectory(_ label: String = "store") -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-\(label)-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

final class FileSystemDriverTests: XCTestCase {
    func testConformance() throws {
        for check in DriverConformance.checks {
            let dir = freshDirectory("driver")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            XCTAssertNoThrow(try check.run { try FileSystemDriver(root: dir) }, check.name)
        }
    }

    func testLayoutIsAPureFunctionOfTheDigest() throws {
        let d = try Digest(parsing: "sha256:ab" + String(repeating: "0", count: 62))
        let l = FileSystemLayout(root: "/r/")
        XCTAssertEqual(l.blob(d), "/r/blobs/sha256/ab/ab" + String(repeating: "0", count: 62))
        XCTAssertEqual(l.manifestMarker(d), "/r/manifests/sha256/ab/ab" + String(repeating: "0", count: 62))
        XCTAssertEqual(l.catalog, "/r/catalog.sqlite")
    }

    func testUnrelatedFilesAreNotListedAsBlobs() throws {
        let dir = freshDirectory("driver")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try FileSystemDriver(root: dir)
        try FileManager.default.createDirectory(atPath: dir + "/blobs/sha256/zz", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/blobs/sha256/zz/notes.txt", contents: Data("x".utf8))
        XCTAssertEqual(try d.list(), [])
    }
}
