import Foundation
import XCTest
import GlossaCore
@testable import TensorIO
import WhisperTesting

/// `CTranslate2Whisper.write` is the reader's counterpart: what it writes reads back to the
/// same tensors bit for bit, and written from the imported real whisper-base it reproduces
/// ctranslate2's own model.bin byte for byte.
final class CTranslate2WriterTests: XCTestCase {
    /// A tokenizer.json with 3 BPE tokens and Whisper-style added tokens (ids 3...8).
    private let tinyTokenizer = Array("""
    {"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},
     "added_tokens":[{"id":3,"content":"<|endoftext|>"},{"id":4,"content":"<|startoftranscript|>"},
                     {"id":5,"content":"<|en|>"},{"id":6,"content":"<|fr|>"},{"id":7,"content":"<|transcribe|>"},
                     {"id":8,"content":"<|notimestamps|>"}]}
    """.utf8)

    private func tinyCheckpoint() -> WhisperCheckpoint {
        TinyWhisper.make(seed: 7, dimensions: .init(dModel: 16, encoderLayers: 2, decoderLayers: 3, heads: 2, ffnDim: 24, vocabSize: 12,
                                                      numMelBins: 8, maxSourcePositions: 20, maxTargetPositions: 10),
                         tokenizerJSON: tinyTokenizer, suppressTokens: [1, 3], beginSuppressTokens: [2])
    }

    /// `t` rounded to f16 (the tests' own conversion, round to nearest even).
    private func f16(_ t: TensorData) -> TensorData {
        let halves = t.floats().map { Float16($0).bitPattern.littleEndian }
        return TensorData(dtype: .f16, shape: t.shape, bytes: halves.withUnsafeBytes { Data($0) })
    }

    func testTinyCheckpointRoundTripsBitExactInF32AndF16() throws {
        for half in [false, true] {
            var ckpt = tinyCheckpoint()
            if half { ckpt.tensors = ckpt.tensors.mapValues(f16) }
            let dir = try TestPaths.tempDir(self)
            try CTranslate2Whisper.write(ckpt, to: dir)
            let back = try CTranslate2Whisper.load(folder: dir)
            XCTAssertEqual(back.config, ckpt.config)
            XCTAssertEqual(back.tensors, ckpt.tensors, half ? "f16" : "f32")
            XCTAssertEqual(back.tokenizerJSON, ckpt.tokenizerJSON)
            // The vocabulary: tokens by id, then timestamps up to the 12 embedding rows.
            let vocab = try JSONDecoder().decode([String].self, from: Data(contentsOf: dir.appendingPathComponent("vocabulary.json")))
            XCTAssertEqual(vocab, ["a", "b", "ab", "<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|fr|>", "<|transcribe|>",
                                   "<|notimestamps|>", "<|0.00|>", "<|0.02|>", "<|0.04|>"])
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
            XCTAssertEqual(config["lang_ids"] as? [Int], [5, 6])
            XCTAssertEqual(config["suppress_ids"] as? [Int], [1, 3])
            XCTAssertEqual(config["suppress_ids_begin"] as? [Int], [2])
            let pre = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("preprocessor_config.json"))) as! [String: Any]
            XCTAssertEqual(pre["feature_size"] as? Int, 8)
            // The spec's scalars, with this model's head counts.
            let bin = try CTranslate2Model(path: dir.appendingPathComponent("model.bin").path)
            XCTAssertEqual(bin.specName, "WhisperSpec")
            XCTAssertEqual(bin.revision, 3)
            XCTAssertEqual(bin.scalarInt("encoder/num_heads"), 2)
            XCTAssertEqual(bin.scalarInt("decoder/activation"), 3)
            XCTAssertEqual(bin.aliases, ["decoder/projection/weight": "decoder/embeddings/weight"])
        }
    }

    /// ctranslate2 converted the golden tiny model; our writer emits the same variables with the
    /// same bytes, except two flags newer ctranslate2 adds (alibi options, both 0) that the real
    /// whisper-base conversion does not have.
    func testTinyModelFromCTranslate2IsRewrittenWithTheSameVariables() throws {
        let src = try TestPaths.ct2Tiny("ct2_tiny_float16")
        let dir = try TestPaths.tempDir(self)
        var ckpt = try CTranslate2Whisper.load(folder: src)
        // Its tokenizer.json is a placeholder; its vocabulary.json names the 40 ids tok0...tok39.
        let vocab = (0 ..< 40).map { "\"tok\($0)\":\($0)" }.joined(separator: ",")
        ckpt.tokenizerJSON = Array(#"{"model":{"type":"BPE","vocab":{\#(vocab)},"merges":[]},"added_tokens":[]}"#.utf8)
        try CTranslate2Whisper.write(ckpt, to: dir)
        let names = { (d: URL) in try JSONDecoder().decode([String].self, from: Data(contentsOf: d.appendingPathComponent("vocabulary.json"))) }
        XCTAssertEqual(try names(dir), try names(src))
        let ours = try CTranslate2Model(path: dir.appendingPathComponent("model.bin").path)
        let theirs = try CTranslate2Model(path: src.appendingPathComponent("model.bin").path)
        let newer: Set = ["decoder/alibi_use_positive_positions", "decoder/scale_alibi"]
        XCTAssertEqual(Set(ours.variables.keys), Set(theirs.variables.keys).subtracting(newer))
        for (name, v) in ours.variables {
            let t = try XCTUnwrap(theirs.variables[name], name)
            XCTAssertEqual(v.shape, t.shape, name)
            XCTAssertEqual(v.dtype, t.dtype, name)
            XCTAssertEqual(ours.file.data(in: v.range), theirs.file.data(in: t.range), name)
        }
        XCTAssertEqual(ours.aliases, theirs.aliases)
    }

    func testRealWhisperBaseIsWrittenBackByteForByte() throws {
        let src = try TestPaths.whisperBaseCT2()
        let dir = try TestPaths.tempDir(self)
        try CTranslate2Whisper.write(try CTranslate2Whisper.load(folder: src), to: dir)
        // The pinned digest of whisper-base's model.bin (scripts/fetch-whisper-base.sh).
        let digest = Digest(of: try Data(contentsOf: dir.appendingPathComponent("model.bin"), options: .alwaysMapped))
        XCTAssertEqual(digest.hex, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9")
        // vocabulary.json lists the shipped vocabulary.txt, line for line.
        let txt = try String(contentsOf: src.appendingPathComponent("vocabulary.txt"), encoding: .utf8)
        var lines = txt.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let vocab = try JSONDecoder().decode([String].self, from: Data(contentsOf: dir.appendingPathComponent("vocabulary.json")))
        XCTAssertEqual(vocab.count, 51865)
        XCTAssertEqual(vocab, lines)
        // config.json: the same suppress lists and language ids as ctranslate2's conversion.
        func json(_ url: URL) throws -> [String: Any] { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any] }
        let ours = try json(dir.appendingPathComponent("config.json")), theirs = try json(src.appendingPathComponent("config.json"))
        for key in ["suppress_ids", "suppress_ids_begin", "lang_ids"] {
            XCTAssertEqual(ours[key] as? [Int], theirs[key] as? [Int], key)
        }
        XCTAssertEqual((ours["lang_ids"] as? [Int])?.count, 99)
    }

    func testFusedBlocksOfMixedDtypesAreRefusedAndNothingIsWritten() throws {
        var ckpt = tinyCheckpoint()
        let k = "model.decoder.layers.1.encoder_attn.k_proj.weight"
        ckpt.tensors[k] = f16(ckpt.tensors[k]!)
        let dir = try TestPaths.tempDir(self)
        XCTAssertThrowsError(try CTranslate2Whisper.write(ckpt, to: dir)) {
            guard case .cTranslate2(_, "decoder/layer_1/attention/linear_1/weight", let m)? = $0 as? TensorIOError else { return XCTFail("\($0)") }
            XCTAssertTrue(m.contains("one dtype"), m)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no model.bin, no temp file")
    }

    func testTokenizerWithAGapInItsIdsIsRefused() throws {
        var ckpt = tinyCheckpoint()
        ckpt.tokenizerJSON = Array(#"{"model":{"type":"BPE","vocab":{"a":0,"b":2},"merges":[]},"added_tokens":[]}"#.utf8)
        XCTAssertThrowsError(try CTranslate2Whisper.write(ckpt, to: try TestPaths.tempDir(self))) {
            XCTAssertTrue("\($0)".contains("no token has id 1"), "\($0)")
        }
    }
}
