import Foundation
import XCTest
import GlossaCore
@testable import TensorIO

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

    /// The folder we write loads in transformers with no missing or unexpected keys and
    /// the same values.
    func testTransformersLoadsOurFolder() throws {
        let dir = try TestPaths.tempDir(self)
        let ckpt = TinyWhisper.make(seed: 5, dimensions: TinyWhisper.Dimensions(vocabSize: 51865))
        try HuggingFaceWhisper.write(ckpt, to: dir)
        let script = """
        import sys, json, torch
        from transformers import WhisperForConditionalGeneration
        m, info = WhisperForConditionalGeneration.from_pretrained(sys.argv[1], output_loading_info=True)
        sd = m.state_dict()
        print(json.dumps({"missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"]),
                          "mismatched": sorted(str(x) for x in info["mismatched_keys"]),
                          "q": sd["model.decoder.layers.1.encoder_attn.q_proj.weight"][3, :4].tolist(),
                          "tied": bool(torch.equal(sd["proj_out.weight"], sd["model.decoder.embed_tokens.weight"])),
                          "kbias": m.model.encoder.layers[0].self_attn.k_proj.bias is None}))
        """
        guard let out = try runPython(["-c", script, dir.path], requiring: ["torch", "transformers"]) else {
            throw XCTSkip("python3 with torch and transformers not available")
        }
        let line = try XCTUnwrap(out.split(separator: "\n").last, "no output from python")
        let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(r["missing"] as? [String], [])
        XCTAssertEqual(r["unexpected"] as? [String], [])
        XCTAssertEqual(r["mismatched"] as? [String], [])
        XCTAssertEqual(r["tied"] as? Bool, true)
        XCTAssertEqual(r["kbias"] as? Bool, true)
        let q = ckpt.tensors["model.decoder.layers.1.encoder_attn.q_proj.weight"]!.doubles
        // Compared as Float: JSON text round trips f32 exactly, not always the last double digit.
        XCTAssertEqual((r["q"] as? [Double])?.map(Float.init), q[3 * 64 ..< 3 * 64 + 4].map(Float.init))
    }

    /// whisper-base from CTranslate2 survives HF write + load unchanged.
    func testRealWhisperBaseThroughHuggingFaceFolder() throws {
        let src = try TestPaths.whisperBaseCT2()
        let ckpt = try CTranslate2Whisper.load(folder: src)
        let dir = try TestPaths.tempDir(self)
        try HuggingFaceWhisper.write(ckpt, to: dir)
        let back = try HuggingFaceWhisper.load(folder: dir)
        XCTAssertEqual(back.config, ckpt.config)
        XCTAssertEqual(back.tensors, ckpt.tensors)
        XCTAssertEqual(back.tokenizerJSON, ckpt.tokenizerJSON)

        // End to end: transformers on our folder decodes like CTranslate2 on the original
        // folder (same log-mel features, greedy, English espeak speech), which checks the
        // q/k/v un-fusing and every name mapping numerically.
        let wav = dir.appendingPathComponent("speech.wav")
        let espeak = Process()
        espeak.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        espeak.arguments = ["espeak-ng", "-v", "en", "-w", wav.path, "The quick brown fox jumps over the lazy dog."]
        guard (try? espeak.run()) != nil else { throw XCTSkip("espeak-ng not available") }
        espeak.waitUntilExit()
        let script = """
        import sys, json, torch, ctranslate2
        from transformers import WhisperForConditionalGeneration, WhisperFeatureExtractor
        from faster_whisper import decode_audio
        hf, ct2, wav = sys.argv[1:4]
        m, info = WhisperForConditionalGeneration.from_pretrained(hf, output_loading_info=True)
        m = m.float().eval()
        audio = decode_audio(wav, sampling_rate=16000)
        feats = WhisperFeatureExtractor(feature_size=80)(audio, sampling_rate=16000, return_tensors="pt").input_features
        prompt = [50258, 50259, 50359, 50363]
        with torch.no_grad():
            out = m.generate(feats, decoder_input_ids=torch.tensor([prompt]), max_new_tokens=40, do_sample=False, num_beams=1)
            logits = m(input_features=feats, decoder_input_ids=torch.tensor([[50258]])).logits[0, -1]
        ours = out[0].tolist()  # special tokens (prompt, if echoed) are filtered below
        # The same features through CTranslate2 on the original folder.
        cm = ctranslate2.models.Whisper(ct2, device="cpu", compute_type="float32")
        sv = ctranslate2.StorageView.from_array(feats.numpy())
        ref = cm.generate(sv, [prompt], beam_size=1, max_length=44)[0].sequences_ids[0]
        langs = cm.detect_language(sv)[0][:5]
        # Language-token distribution after SOT (what detect_language reports), from our folder.
        langs_hf = torch.softmax(logits.double()[50259:50358], -1)
        top = sorted(((langs_hf[i].item(), i + 50259) for i in range(len(langs_hf))), reverse=True)[:5]
        print(json.dumps({"missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"]),
                          "ours": [t for t in ours if t < 50257], "ref": [t for t in ref if t < 50257],
                          "ct2_lang": [p for _, p in langs], "hf_lang": [p for p, _ in top]}))
        """
        guard let out = try runPython(["-c", script, dir.path, src.path, wav.path],
                                      requiring: ["torch", "transformers", "faster_whisper", "ctranslate2"]) else {
            throw XCTSkip("python3 with torch, transformers and faster_whisper not available")
        }
        let line = try XCTUnwrap(out.split(separator: "\n").last)
        let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(r["missing"] as? [String], [])
        XCTAssertEqual(r["unexpected"] as? [String], [])
        let ours = try XCTUnwrap(r["ours"] as? [Int]), ref = try XCTUnwrap(r["ref"] as? [Int])
        XCTAssertGreaterThan(ref.count, 5)
        // The first decoder step matches CTranslate2 to float precision ...
        func doubles(_ key: String) -> [Double] { (r[key] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue } }
        let ct2Lang = doubles("ct2_lang"), hfLang = doubles("hf_lang")
        XCTAssertEqual(ct2Lang.count, 5)
        for (a, b) in zip(ct2Lang, hfLang) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // ... and greedy decoding of the same features gives the same tokens.
        XCTAssertEqual(ours, ref)
    }
}
