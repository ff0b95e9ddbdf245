import DurableFiles
import Foundation
import XCTest

/// The crash-safe write protocol: nothing is visible under the final name before `commit`,
/// an abandoned write leaves the old file and no temporary, and errors name the call and path.
final class AtomicFileWriterTests: ScratchDirectoryTestCase {
    func entries(_ path: String? = nil) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path ?? dir).sorted() }
    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func testOldContentStaysUntilCommitAndNoTemporaryRemains() throws {
        let path = dir + "/state.bin"
        try AtomicFileWriter.write(Data("old".utf8), to: path)
        let w = try AtomicFileWriter(path: path)
        try w.write(Data("new ".utf8))
        try w.write(Array("bytes".utf8))
        XCTAssertEqual(try read(path), "old", "not visible before commit")
        XCTAssertEqual(try entries().count, 2, "the temporary sits beside the destination")
        try w.commit()
        try w.commit()   // repeated: a no-op, not an error
        XCTAssertEqual(try read(path), "new bytes")
        XCTAssertEqual(try entries(), ["state.bin"])
    }

    func testAbortAndDeinitLeaveTheOldFileAndNoTemporary() throws {
        let path = dir + "/a.json"
        try AtomicFileWriter.write(Data("kept".utf8), to: path)
        let w = try AtomicFileWriter(path: path)
        try w.write(Data("dropped".utf8))
        w.abort()
        do {
            let unfinished = try AtomicFileWriter(path: path)
            try unfinished.write(Data("also dropped".utf8))
        }
        XCTAssertEqual(try read(path), "kept")
        XCTAssertEqual(try entries(), ["a.json"])
        XCTAssertThrowsError(try w.commit(), "an aborted write cannot be committed")
    }

    func testModeIsSetRegardlessOfUmask() throws {
        let path = dir + "/secret.key"
        let old = umask(0o077)
        defer { umask(old) }
        try AtomicFileWriter.write(Data("k".utf8), to: path, mode: 0o644)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, 0o644)
        try AtomicFileWriter.write(Data("k".utf8), to: path, mode: 0o600)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, 0o600)
    }

    func testErrorsNameTheCallAndThePath() throws {
        let path = dir + "/missing/x.bin"
        XCTAssertThrowsError(try AtomicFileWriter.write(Data(), to: path)) { e in
            let e = e as! FileWriteError
            XCTAssertEqual(e.operation, "create a temporary file")
            XCTAssertTrue(e.path.hasPrefix(dir + "/missing/.x.bin.tmp-"), e.path)
            XCTAssertEqual(e.errno, ENOENT)
            XCTAssertTrue(e.description.hasSuffix(": cannot create a temporary file: No such file or directory"), e.description)
        }
    }

    /// The registry's way: the temporary in its own `tmp/` (swept by gc), renamed elsewhere.
    func testTemporaryFileInAnotherDirectoryMovesIntoPlace() throws {
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/refs", withIntermediateDirectories: true)
        let f = try TemporaryFile(directory: dir + "/tmp", name: "1-2.small")
        try f.write(Array("sha256:00".utf8))
        try f.sync()
        XCTAssertEqual(try read(dir + "/tmp/1-2.small"), "sha256:00", "synced bytes can be read back before the rename")
        try f.moveIntoPlace(at: dir + "/refs/latest")
        XCTAssertEqual(try read(dir + "/refs/latest"), "sha256:00")
        XCTAssertEqual(try entries(dir + "/tmp"), [])
        XCTAssertThrowsError(try f.moveIntoPlace(at: dir + "/refs/other"), "the temporary is gone")
    }
}
