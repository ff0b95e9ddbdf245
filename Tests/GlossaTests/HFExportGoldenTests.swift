import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper
import XCTest
@testable import Glossa

/// `export --format hf`: transformers, loading the merged folder, decodes like Glossa. Golden
/// token ids come from scripts/golden/hf_export_tokens.sh (transformers, greedy, on the folder
/// this test writes), so `make test` needs no torch. Inputs, all reproducible without files:
/// the real whisper-base, a seeded synthetic expert (`syntheticExpert`), and the 27 espeak-ng
/// log-mel windows in 9 languages already committed for ModelGoldenTests.
final class HFExportGoldenTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let features = root.appendingPathComponent("Tests/WhisperTests/Golden/model")
    static let golden = root.appendingPathComponent("Tests/GlossaTests/Golden/hf_export_tokens.json")

    struct Golden: Decodable {
        struct Clip: Decodable { let lang: String; let index: Int; let tokens: [Int]; let top2_margins: [Double] }
        let transformers: String
        let clips: [Clip]
    }
    /// The window layout of the committed features (scripts/golden/model_ct2.py).
    struct FeatureClip: Decodable {
        struct Greedy: Decodable { let tokens: [Int] }
        let lang: String; let index: Int; let frames: Int; let fill: Float; let prompt: [Int]
        /// The base model's greedy tokens (CTranslate2), to show the expert changes them.
        let greedy: Greedy
    }
    struct FeatureIndex: Decodable { let clips: [FeatureClip] }

    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-hf-golden-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Publishes a rank-4 LoRA on q/v/fc1 of every encoder and decoder layer of whisper-base with
    /// factors from SeededGenerator(seed 11): A, B ~ U(-0.05, 0.05), alpha 8 (scale 2), so the
    /// delta is about a tenth of the weights' size: transcripts move, but stay speech-like.
    func syntheticExpert(_ reg: Registry, base: String) throws -> String {
        var rng = SeededGenerator(seed: 11)
        let rank = 4
        var modules: [String] = []
        for side in ["encoder", "decoder"] {
            for i in 0 ..< 6 { modules += ["q_proj", "v_proj"].map { "model.\(side).layers.\(i).self_attn.\($0)" } + ["model.\(side).layers.\(i).fc1"] }
        }
        var tensors: [String: LoRATensorEntry] = [:]
        for m in modules {
            let (o, i) = m.hasSuffix("fc1") ? (2048, 512) : (512, 512)
            let a = (0 ..< rank * i).map { _ in rng.uniform(-0.05, 0.05) }, b = (0 ..< o * rank).map { _ in rng.uniform(-0.05, 0.05) }
            tensors[m] = LoRATensorEntry(a: try reg.store.putTensor(HalfConversion.f32Data(a, shape: [rank, i])),
                                         b: try reg.store.putTensor(HalfConversion.f32Data(b, shape: [o, rank])))
        }
        let m = ExpertManifest(name: "synth", version: "1.0.0", language: "fr", base: try reg.resolve(base),
                               lora: LoRAConfig(rank: rank, alpha: 8, targetModules: ["q_proj", "v_proj", "fc1"]),
                               tensors: tensors, provenance: Provenance(toolVersion: "test", created: "2026-11-29T00:00:00Z"),
                               metrics: [:], license: "MIT")
        try reg.store.publish(m)
        return "synth:1.0.0"
    }

    /// The committed window `clip` as the [80, 3000] log-mel the golden script fed transformers.
    func window(_ clip: FeatureClip) throws -> [Float] {
        let file = try SafeTensors.read(Self.features.appendingPathComponent("features_\(clip.lang).safetensors"))
        let t = try XCTUnwrap(file["clip\(clip.index)"])
        let part = try HalfConversion.floats(from: t)
        var out = [Float](repeating: clip.fill, count: 80 * 3000)
        for m in 0 ..< 80 { for f in 0 ..< clip.frames { out[m * 3000 + f] = part[m * clip.frames + f] } }
        return out
    }

    struct NoText: TokenTextDecoding { func decodeText(_ tokens: [Int]) -> String { "" } }

    func testHuggingFaceExportDecodesLikeTransformers() throws {
        let model = Self.root.appendingPathComponent("models/whisper-base-ct2")
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("model.bin").path) else {
            throw Peer.missing("whisper-base not found at \(model.path); run scripts/fetch-whisper-base.sh")
        }
        let compute = Compute(blas: try BLASLibrary.load(threads: 2), threads: 2)
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        _ = try reg.importBase(folder: model, name: "whisper-base", version: "1.0.0")
        let expert = try syntheticExpert(reg, base: "whisper-base")
        // scripts/golden/hf_export_tokens.sh sets GLOSSA_HF_EXPORT_DIR to keep the folder for transformers.
        let keep = ProcessInfo.processInfo.environment["GLOSSA_HF_EXPORT_DIR"]
        let out = keep ?? tmp.appendingPathComponent("synth-hf").path
        try reg.exportMerged(expert, format: .hf, to: out, dtype: .f32, force: keep != nil, compute: compute)

        let ckpt = try SpeechModel.loadCheckpoint(folder: URL(fileURLWithPath: out))
        let whisper = try WhisperModel(checkpoint: ckpt)
        let transcriber = try Transcriber(model: whisper, compute: compute, specials: try SpecialTokens(tokenizerJSON: ckpt.tokenizerJSON))
        let index = try JSONDecoder().decode(FeatureIndex.self, from: Data(contentsOf: Self.features.appendingPathComponent("ct2.json")))
        if keep != nil { return }   // writing the folder for the golden script; nothing to compare yet
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.golden))
        XCTAssertEqual(golden.clips.count, index.clips.count)
        let moved = zip(index.clips, golden.clips).filter { $0.greedy.tokens != $1.tokens }.count
        XCTAssertGreaterThan(moved, 0, "the expert changes some transcripts, so agreement is about the merged delta")

        var same = 0
        for (clip, g) in zip(index.clips, golden.clips) {
            XCTAssertEqual("\(clip.lang)/\(clip.index)", "\(g.lang)/\(g.index)")
            let enc = try whisper.encode(features: try window(clip), compute: compute)
            var o = TranscriptionOptions(language: clip.lang, beamSize: 1)
            o.temperatures = [0]; o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
            let tokens = try transcriber.decode(encoded: enc, options: o, text: NoText()).tokens
            if tokens == g.tokens { same += 1; continue }
            // A divergence is accepted only where transformers itself saw a near tie.
            let k = zip(tokens, g.tokens).prefix { $0 == $1 }.count
            let margin = k < g.top2_margins.count ? g.top2_margins[k] : .nan
            print("hf export: \(clip.lang)/\(clip.index) differs at step \(k) (transformers' top-2 log-prob margin there \(margin))")
            XCTAssertLessThan(margin, 0.05, "\(clip.lang)/\(clip.index): differs where transformers had no near tie")
        }
        print("hf export: transformers on the merged folder = Glossa on \(same) / \(golden.clips.count) windows "
              + "(\(golden.transformers)); the expert changed \(moved) of them against the base")
        XCTAssertGreaterThanOrEqual(Double(same), 0.95 * Double(golden.clips.count))
    }
}
