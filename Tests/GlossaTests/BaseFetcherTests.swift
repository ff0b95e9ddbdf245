import Foundation
import XCTest
@testable import Glossa

/// `glossa base fetch` keeps a folder only when every file has its pinned digest (issue 11,
/// item 18: the tokenizer and config used to be copied unverified).
final class BaseFetcherTests: XCTestCase {
    func testEveryFileOfTheFolderIsPinned() throws {
        let model = Peer.packageRoot.appendingPathComponent("models/whisper-base-ct2")
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("model.bin").path) else {
            throw Peer.missing("whisper-base not fetched at \(model.path); run scripts/fetch-whisper-base.sh")
        }
        XCTAssertEqual(Set(BaseFetcher.pinnedFiles.map(\.name)), ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"])
        XCTAssertEqual(BaseFetcher.mismatches(in: model), [])

        // A copy with one changed tokenizer byte and no vocabulary: both are named.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-fetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("model.bin"),
                                                   withDestinationURL: model.appendingPathComponent("model.bin"))
        try FileManager.default.copyItem(at: model.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        var tokenizer = try Data(contentsOf: model.appendingPathComponent("tokenizer.json"))
        tokenizer[tokenizer.count / 2] ^= 1
        try tokenizer.write(to: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual(BaseFetcher.mismatches(in: dir), ["tokenizer.json", "vocabulary.txt"])
    }
}
