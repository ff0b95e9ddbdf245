import Foundation
import XCTest
@testable import Whisper

/// Ids and text against Hugging Face `tokenizers` (golden from
/// scripts/golden/frontend_tokenizer.py) on the real Whisper tokenizer.json.
final class TokenizerGoldenTests: XCTestCase {
    struct EncodeCase: Decodable { let text: String; let ids: [Int] }
    struct DecodeCase: Decodable { let ids: [Int]; let text: String; let text_skip_special: String }
    struct Golden: Decodable { let encode: [EncodeCase]; let decode: [DecodeCase] }

    static func modelDir() throws -> String {
        let env = ProcessInfo.processInfo.environment["GLOSSA_TEST_MODEL_DIR"]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = env ?? root.appendingPathComponent("models/whisper-base-ct2").path
        guard FileManager.default.fileExists(atPath: dir + "/tokenizer.json") else {
            throw Peer.missing("no \(dir)/tokenizer.json: run scripts/fetch-whisper-base.sh or set GLOSSA_TEST_MODEL_DIR")
        }
        return dir
    }

    static let shared: Result<BPETokenizer, Error> = Result { try BPETokenizer(contentsOf: modelDir() + "/tokenizer.json") }

    static func golden() throws -> Golden {
        let url = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Golden/tokenizer/tokenizer_golden.json"))
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    func testEncodeMatchesHuggingFace() throws {
        let tok = try Self.shared.get()
        let golden = try Self.golden()
        XCTAssertGreaterThan(golden.encode.count, 60)
        var mismatches = 0
        for c in golden.encode {
            let ids = tok.encode(c.text)
            if ids != c.ids {
                mismatches += 1
                if mismatches <= 10 { XCTFail("encode \(c.text.debugDescription): got \(ids), HF \(c.ids)") }
            }
        }
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(golden.encode.count) texts differ from HF")
    }

    func testDecodeMatchesHuggingFace() throws {
        let tok = try Self.shared.get()
        for c in try Self.golden().decode {
            XCTAssertEqual(tok.decode(c.ids), c.text, "decode \(c.ids)")
            XCTAssertEqual(tok.decode(c.ids, skipSpecial: true), c.text_skip_special, "decode skip \(c.ids)")
        }
    }

    func testRoundTripAndWhisperIds() throws {
        let tok = try Self.shared.get()
        XCTAssertEqual(tok.id(of: "<|endoftext|>"), 50257)
        XCTAssertEqual(tok.id(of: "<|startoftranscript|>"), 50258)
        XCTAssertEqual(tok.id(of: "<|en|>"), 50259)
        XCTAssertEqual(tok.id(of: "<|notimestamps|>"), 50363)
        for text in ["Wie spät ist es?", " Ça va très bien, merci.", "Съешь же ещё этих мягких французских булок 🥐"] {
            XCTAssertEqual(tok.decode(tok.encode(text)), text)
        }
        // A character split across tokens decodes whole once all its bytes are present.
        let ids = tok.encode("🥐")
        XCTAssertGreaterThan(ids.count, 1)
        XCTAssertEqual(tok.decode(Array(ids.prefix(1))), "\u{FFFD}")
        // Timestamp ids (>= 50364) are not in tokenizer.json: skipped, not a crash.
        XCTAssertEqual(tok.decode([50364] + tok.encode(" Hallo") + [50414]), " Hallo")
    }

    func testRejectsNonBPE() {
        XCTAssertThrowsError(try BPETokenizer(json: Data(#"{"model":{"type":"WordPiece","vocab":{},"merges":[]}}"#.utf8), path: "x.json")) {
            guard case TokenizerError.invalid(let path, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "x.json")
        }
        XCTAssertThrowsError(try BPETokenizer(contentsOf: "/nonexistent/tokenizer.json")) {
            guard case TokenizerError.unreadable = $0 else { return XCTFail("\($0)") }
        }
    }
}

final class WhisperSpecialTokensTests: XCTestCase {
    /// The decoder's special tokens, read from the real tokenizer.json, agree with the BPE
    /// tokenizer's vocabulary and with the model config's language ids.
    func testControlTokensOfMultilingualBase() throws {
        let tok = try TokenizerGoldenTests.shared.get()
        let json = try Data(contentsOf: URL(fileURLWithPath: TokenizerGoldenTests.modelDir() + "/tokenizer.json"))
        let s = try SpecialTokens(tokenizerJSON: Array(json))
        XCTAssertEqual(s.eot, 50257)
        XCTAssertEqual(s.sot, 50258)
        XCTAssertEqual(s.transcribe, 50359)
        XCTAssertEqual(s.translate, 50358)
        XCTAssertEqual(s.noTimestamps, 50363)
        XCTAssertEqual(s.timestampBegin, 50364)
        XCTAssertEqual(s.languages.count, 99)
        XCTAssertEqual(s.languages.first, "en")
        XCTAssertEqual(s.languageIDs["fr"], 50265)
        XCTAssertEqual(tok.id(of: "<|fr|>"), 50265)
        XCTAssertEqual(try s.prompt(language: "de"), [50258, 50261, 50359, 50363])
        XCTAssertThrowsError(try s.prompt(language: "xx"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TokenizerGoldenTests.modelDir() + "/config.json"))) as? [String: Any]
        if let langIDs = config?["lang_ids"] as? [Int] {
            XCTAssertEqual(langIDs, s.languages.map { s.languageIDs[$0]! })
        }
    }

    func testSampleBufferSourceChunks() throws {
        let source = SampleBufferSource(samples: (0..<10).map(Float.init), chunkSamples: 4)
        var chunks: [[Float]] = []
        while let c = try source.nextChunk() { chunks.append(c) }
        XCTAssertEqual(chunks, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }
}
