import Foundation
import XCTest
import GlossaCore
@testable import TensorIO
import WhisperTesting

final class HuggingFaceWhisperTests: XCTestCase {
    private let small = TinyWhisper.Dimensions(dModel: 16, encoderLayers: 1, decoderLayers: 2, heads: 2, ffnDim: 32,
                                               vocabSize: 50, numMelBins: 8, maxSourcePositions: 12, maxTargetPositions: 10)

    func testTinyBuilderIsDeterministicAndWellFormed() throws {
        let a = TinyWhisper.make(seed: 1, dimensions: small, suppressTokens: [3])
        let b = TinyWhisper.make(seed: 1, dimensions: small, suppressTokens: [3])
        let c = TinyWhisper.make(seed: 2, dimensions: small)
        XCTAssertEqual(a.tensors, b.tensors)
        XCTAssertEqual(a.config.suppressTokens, [3])
        XCTAssertNoThrow(try WhisperLayout.validate(a.tensors, config: a.config, path: "tiny"))
        for (name, t) in a.tensors where name != "model.encoder.embed_positions.weight" {
            XCTAssertNotEqual(t, c.tensors[name], "seed must change \(name)")
            let v = t.doubles
            XCTAssertGreaterThan(Set(v).count, v.count / 2, "\(name) should look random")
        }
        let q = a.tensors["model.encoder.layers.0.self_attn.q_proj.weight"]!.doubles
        XCTAssertLessThanOrEqual(q.map(abs).max()!, 0.25)  // 1/sqrt(16)
        let norm = a.tensors["model.decoder.layer_norm.weight"]!.doubles
        XCTAssertTrue(norm.allSatisfy { $0 >= 0.9 && $0 <= 1.1 })
        // Row 3 of the positions: sin(3 * f_i) then cos(3 * f_i).
        let pos = a.tensors["model.encoder.embed_positions.weight"]!.doubles
        XCTAssertEqual(pos[3 * 16], sin(3), accuracy: 1e-7)
        XCTAssertEqual(pos[3 * 16 + 8], cos(3), accuracy: 1e-7)
    }

    func testWriteThenLoadRoundTrips() throws {
        let dir = try TestPaths.tempDir(self)
        let ckpt = TinyWhisper.make(seed: 9, dimensions: small, tokenizerJSON: Array(#"{"added_tokens":[{"id":4,"content":"<|endoftext|>"},{"id":5,"content":"<|startoftranscript|>"}]}"#.utf8),
                                    suppressTokens: [1, 2], beginSuppressTokens: [4])
        try HuggingFaceWhisper.write(ckpt, to: dir)
        let back = try HuggingFaceWhisper.load(folder: dir)
        XCTAssertEqual(back.config, ckpt.config)
        XCTAssertEqual(back.tensors, ckpt.tensors)
        XCTAssertEqual(back.tokenizerJSON, ckpt.tokenizerJSON)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["eos_token_id"] as? Int, 4)
        XCTAssertEqual(config["decoder_start_token_id"] as? Int, 5)
        XCTAssertEqual(config["model_type"] as? String, "whisper")
        XCTAssertEqual(try SafeTensors.read(dir.appendingPathComponent("model.safetensors")).metadata, ["format": "pt"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(),
                       ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"])
    }

    /// generation_config.json carries what transformers' `generate(language=, task=)` looks up
    /// (without `lang_to_id` it refuses a language), with the ids of the checkpoint's tokenizer.
    func testGenerationConfigNamesLanguagesAndTasks() throws {
        let dir = try TestPaths.tempDir(self)
        let added = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|fr|>", "<|translate|>", "<|transcribe|>",
                     "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]
        let tokenizer = #"{"model":{"type":"BPE","vocab":{"a":0,"b":1}},"added_tokens":["#
            + added.enumerated().map { #"{"id":\#($0.offset + 2),"content":"\#($0.element)"}"# }.joined(separator: ",") + "]}"
        let ckpt = TinyWhisper.make(seed: 9, dimensions: small, tokenizerJSON: Array(tokenizer.utf8), suppressTokens: [1], beginSuppressTokens: [2])
        try HuggingFaceWhisper.write(ckpt, to: dir)
        let g = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("generation_config.json"))) as! [String: Any]
        XCTAssertEqual(g["lang_to_id"] as? [String: Int], ["<|en|>": 4, "<|fr|>": 5])
        XCTAssertEqual(g["task_to_id"] as? [String: Int], ["translate": 6, "transcribe": 7])
        XCTAssertEqual(g["is_multilingual"] as? Bool, true)
        XCTAssertEqual(g["no_timestamps_token_id"] as? Int, 10)
        XCTAssertEqual(g["prev_sot_token_id"] as? Int, 8)
        XCTAssertEqual(g["decoder_start_token_id"] as? Int, 3)
        XCTAssertEqual(g["eos_token_id"] as? Int, 2)
        XCTAssertEqual(g["suppress_tokens"] as? [Int], [1])
        XCTAssertEqual(g["begin_suppress_tokens"] as? [Int], [2])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertNil(config["lang_to_id"], "generation settings stay in generation_config.json")
    }

    /// Writes `tensors` + a config for `small` into a fresh folder.
    private func folder(_ tensors: [String: TensorData], config: WhisperConfig? = nil) throws -> URL {
        let dir = try TestPaths.tempDir(self)
        let base = TinyWhisper.make(seed: 1, dimensions: small)
        try HuggingFaceWhisper.write(WhisperCheckpoint(config: config ?? base.config, tensors: base.tensors, tokenizerJSON: [123, 125]), to: dir)
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    private func loadError(_ dir: URL) -> TensorIOError? {
        do { _ = try HuggingFaceWhisper.load(folder: dir); return nil } catch { return error }
    }

    func testWhisperModelNamesAndTiedProjectionAreAccepted() throws {
        let base = TinyWhisper.make(seed: 1, dimensions: small)
        var unprefixed = [String: TensorData]()
        for (k, v) in base.tensors { unprefixed[String(k.dropFirst("model.".count))] = v }
        unprefixed["proj_out.weight"] = base.tensors["model.decoder.embed_tokens.weight"]
        let loaded = try HuggingFaceWhisper.load(folder: try folder(unprefixed))
        XCTAssertEqual(loaded.tensors, base.tensors)
    }

    func testMismatchesAreNamed() throws {
        let base = TinyWhisper.make(seed: 1, dimensions: small)
        var untied = base.tensors
        untied["proj_out.weight"] = TinyWhisper.make(seed: 2, dimensions: small).tensors["model.decoder.embed_tokens.weight"]
        guard case .checkpoint(_, "proj_out.weight", _)? = loadError(try folder(untied)) else { return XCTFail() }

        var missing = base.tensors
        missing["model.decoder.layers.1.fc2.bias"] = nil
        guard case .checkpoint(_, "model.decoder.layers.1.fc2.bias", _)? = loadError(try folder(missing)) else { return XCTFail() }

        var wrong = base.tensors
        wrong["model.encoder.conv1.weight"] = .float32(shape: [16, 8, 2], [Float](repeating: 0, count: 256))
        guard case .checkpoint(_, "model.encoder.conv1.weight", let m)? = loadError(try folder(wrong)), m.contains("[16, 8, 3]") else { return XCTFail() }

        var extra = base.tensors
        extra["model.decoder.layers.0.self_attn.k_proj.bias"] = .float32(shape: [16], [Float](repeating: 0, count: 16))
        guard case .checkpoint(_, "model.decoder.layers.0.self_attn.k_proj.bias", _)? = loadError(try folder(extra)) else { return XCTFail() }

        var badHeads = base.config
        badHeads.decoderAttentionHeads = 3
        let dir = try folder(base.tensors)
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        cfg["decoder_attention_heads"] = 3
        try JSONSerialization.data(withJSONObject: cfg).write(to: dir.appendingPathComponent("config.json"))
        guard case .checkpoint(_, "decoder_attention_heads", _)? = loadError(dir) else { return XCTFail() }
        cfg["decoder_attention_heads"] = nil
        try JSONSerialization.data(withJSONObject: cfg).write(to: dir.appendingPathComponent("config.json"))
        guard case .checkpoint(_, "decoder_attention_heads", _)? = loadError(dir) else { return XCTFail() }
    }

    /// Sharded checkpoints (model.safetensors.index.json) load like single files.
    func testShardedFolder() throws {
        let base = TinyWhisper.make(seed: 4, dimensions: small)
        let dir = try folder(base.tensors)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
        let names = base.tensors.keys.sorted()
        let half = names.count / 2
        var map = [String: String]()
        for (i, part) in [Array(names[..<half]), Array(names[half...])].enumerated() {
            let file = "model-0000\(i + 1)-of-00002.safetensors"
            try SafeTensors.write(base.tensors.filter { part.contains($0.key) }, metadata: ["format": "pt"], to: dir.appendingPathComponent(file))
            for n in part { map[n] = file }
        }
        try JSONSerialization.data(withJSONObject: ["metadata": [:] as [String: Any], "weight_map": map]).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        XCTAssertEqual(try HuggingFaceWhisper.load(folder: dir).tensors, base.tensors)
    }

    /// The folder we write loads in transformers with no missing or unexpected keys and the
    /// same values, shown without torch. scripts/golden/peft_check.py gives transformers a
    /// folder built independently in numpy and refuses any missing, unexpected or mismatched
    /// key (it made the PEFT golden files, and its `--check` runs it again); our writer
    /// reproduces that folder: model.safetensors byte for byte (digest in peft_tiny.json) and
    /// config.json's architecture (peft_tiny_base_config.json).
    func testTransformersLoadedOurFolderForTheGoldens() throws {
        struct Meta: Decodable { struct Base: Decodable { var model_safetensors_sha256: String; var seed: UInt64 }; var base: Base }
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: TestPaths.golden("peft_tiny.json")))
        let dir = try TestPaths.tempDir(self)
        try HuggingFaceWhisper.write(TinyWhisper.make(seed: meta.base.seed), to: dir)
        XCTAssertEqual(Digest(of: try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))).hex,
                       meta.base.model_safetensors_sha256)
        let ours = try XCTUnwrap(try JSONValue.parse(Data(contentsOf: dir.appendingPathComponent("config.json"))).object)
        let given = try XCTUnwrap(try JSONValue.parse(Data(contentsOf: TestPaths.golden("peft_tiny_base_config.json"))).object)
        // Special-token ids come from the tokenizer (this tiny model has none); they do not
        // change which tensors transformers expects or the logits.
        for (key, value) in given where !key.hasSuffix("_token_id") {
            XCTAssertEqual(ours[key], value, key)
        }
    }

    /// whisper-base from CTranslate2 survives HF write + load unchanged. The names and
    /// un-fused q/k/v values are checked against an independent parser of model.bin by
    /// CTranslate2WhisperTests (ct2_whisper_base_slices.json). That transformers on this
    /// folder also decodes like CTranslate2 on the original needs torch, so it is not an
    /// XCTest: scripts/golden/hf_whisper_base_check.sh runs this test with
    /// GLOSSA_HF_EXPORT_DIR set, to keep the folder, and compares the two.
    func testRealWhisperBaseThroughHuggingFaceFolder() throws {
        let src = try TestPaths.whisperBaseCT2()
        let ckpt = try CTranslate2Whisper.load(folder: src)
        let dir: URL
        if let keep = ProcessInfo.processInfo.environment["GLOSSA_HF_EXPORT_DIR"] {
            dir = URL(fileURLWithPath: keep)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } else {
            dir = try TestPaths.tempDir(self)
        }
        try HuggingFaceWhisper.write(ckpt, to: dir)
        let back = try HuggingFaceWhisper.load(folder: dir)
        XCTAssertEqual(back.config, ckpt.config)
        XCTAssertEqual(back.tensors, ckpt.tensors)
        XCTAssertEqual(back.tokenizerJSON, ckpt.tokenizerJSON)
    }
}
