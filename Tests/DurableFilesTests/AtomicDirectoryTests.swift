import DurableFiles
import Foundation
import XCTest

/// Folder outputs: a staged folder replaces a non-empty one, and a failed move keeps the old one.
final class AtomicDirectoryTests: ScratchDirectoryTestCase {
    func folder(_ path: String, file: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try AtomicFileWriter.write(Data(file.utf8), to: path + "/f")
    }

    func testStagedFolderReplacesANonEmptyOneAndNothingIsLeftAside() throws {
        let out = dir + "/bundle"
        try folder(out, file: "old")
        let staging = AtomicDirectory.stagingPath(for: out)
        XCTAssertTrue(staging.hasPrefix(dir + "/.bundle.tmp-"), staging)
        try folder(staging, file: "new")
        try AtomicDirectory.moveIntoPlace(staging, at: out)
        XCTAssertEqual(try String(contentsOfFile: out + "/f", encoding: .utf8), "new")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["bundle"])
    }

    func testAFailedMoveKeepsTheOldFolder() throws {
        let out = dir + "/bundle"
        try folder(out, file: "old")
        XCTAssertThrowsError(try AtomicDirectory.moveIntoPlace(dir + "/.never-staged", at: out)) { e in
            XCTAssertEqual((e as! FileWriteError).errno, ENOENT)
        }
        XCTAssertEqual(try String(contentsOfFile: out + "/f", encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["bundle"])
    }
}
