import Foundation
import GlossaCore
import Store
import TensorIO
import XCTest
@testable import Glossa
import WhisperTesting

/// `import-peft` and `import-base` check everything before they write: a refused import
/// (bad name, version or license, or a name:version already taken) leaves the store's
/// blobs and manifest index exactly as they were.
final class RefusedImportWritesNothingTests: XCTestCase {
    /// The golden PEFT adapter folder (rebuilt from its record, TinyPEFTAdapter; no weights are committed).
    static var golden: URL { get throws { try TinyPEFTAdapter.folder() } }

    func testRefusedImportsLeaveNoBlobs() throws {
        let golden = try Self.golden
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-refused-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let baseFolder = tmp.appendingPathComponent("tiny")
        let tokenizer = Array(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[]}"#.utf8)
        try HuggingFaceWhisper.write(TinyWhisper.make(seed: 0, dimensions: .init(), tokenizerJSON: tokenizer), to: baseFolder)
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        func stored() throws -> ([Digest], [Digest]) { (try reg.store.driver.list(), try reg.store.driver.indexedManifests()) }
        /// Blobs or index entries written since `before` (short digests, to keep failures readable).
        func added(_ now: [Digest], since before: [Digest]) -> [String] { Set(now).subtracting(before).map(\.short).sorted() }

        XCTAssertThrowsError(try reg.importBase(folder: baseFolder, name: "Not A Name", version: "1.0.0"))
        XCTAssertEqual(added(try stored().0, since: []), [], "a base refused for its name must write no blob")
        _ = try reg.importBase(folder: baseFolder, name: "tiny", version: "1.0.0")
        let afterBase = try stored()
        XCTAssertThrowsError(try reg.importBase(folder: baseFolder, name: "tiny", version: "1.0.0")) { e in
            XCTAssertTrue("\(e)".contains("tiny:1.0.0"), "\(e)")
        }
        XCTAssertEqual(added(try stored().0, since: afterBase.0), [], "a taken name:version must write no manifest blob")
        XCTAssertEqual(added(try stored().1, since: afterBase.1), [])

        for (name, version, license) in [("../evil", "1.0.0", "MIT"), ("Bad Name", "1.0.0", "MIT"), ("ok", "one", "MIT"), ("ok", "1.0.0", "")] {
            XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: ["fr"], name: name, version: version,
                                                    base: nil, license: license, description: ""), "\(name) \(version) '\(license)'")
            XCTAssertEqual(added(try stored().0, since: afterBase.0), [], "refused import of \(name):\(version) left blobs")
        }
        _ = try reg.importPEFT(folder: golden, languages: ["fr"], name: "fr-tiny", version: "1.0.0", base: nil, license: "MIT", description: "")
        let afterExpert = try stored()
        XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: ["fr"], name: "fr-tiny", version: "1.0.0",
                                                base: nil, license: "MIT", description: "again"))
        XCTAssertEqual(added(try stored().0, since: afterExpert.0), [], "a taken name:version must write no manifest blob")
        XCTAssertEqual(added(try stored().1, since: afterExpert.1), [])
    }
}
