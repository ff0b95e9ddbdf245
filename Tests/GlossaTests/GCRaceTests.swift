import Foundation
import GlossaCore
@testable import Store
import TensorIO
import XCTest
@testable import Glossa
import WhisperTesting

/// Issue 11 item 15: a gc that sweeps the blobs an import has just stored, before the
/// import publishes, made the import fail as "bad input" (exit 65). Nothing was wrong with
/// the input: the command lost a race and succeeds when run again, so it is "busy" (75).
final class GCRaceTests: XCTestCase {
    func testImportWhoseBlobsAConcurrentGCRemovedIsBusyNotBadInput() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-gc-race-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let folder = tmp.appendingPathComponent("tiny")
        let tokenizer = Array(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[]}"#.utf8)
        let checkpoint = TinyWhisper.make(seed: 0, tokenizerJSON: tokenizer)
        try HuggingFaceWhisper.write(checkpoint, to: folder)
        let blobs = Set(checkpoint.tensors.values.map { Digest(of: $0.bytes) } + [Digest(of: tokenizer)])
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)

        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: GlossaError?
        let importer = Thread {
            do throws(GlossaError) { _ = try reg.importBase(folder: folder, name: "tiny", version: "1.0.0") } catch { failure = error }
            done.signal()
        }
        // Play gc: hold its lock (publish waits for it), and once every blob of the import
        // is stored, delete them all (none is referenced yet) as gc with a short grace would.
        try FileLock(path: FileSystemLayout(root: reg.store.root).gcLock).withLock(exclusive: true) { () throws(StoreError) in
            importer.start()
            let deadline = Date().addingTimeInterval(60)
            while Set((try? reg.store.driver.list()) ?? []) != blobs && Date() < deadline { usleep(10_000) }
            for d in try reg.store.driver.list() { try reg.store.driver.delete(d) }
        }
        done.wait()
        let e = try XCTUnwrap(failure, "the import cannot succeed without its blobs")
        XCTAssertEqual(e.category, .busy, "a lost race with gc is busy (exit 75), not bad input: \(e.message)")
        XCTAssertTrue(e.message.contains("gc") && e.message.contains("again"), e.message)
    }
}
