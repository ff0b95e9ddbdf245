import XCTest
import GlossaCore
import Tensor
@testable import Whisper

final class ModelLoRATests: XCTestCase {
    /// A random adapter on `modules` (rank r, alpha) in canonical module paths.
    func adapter(_ modules: [String], rank r: Int, alpha: Double, seed: UInt64, model m: WhisperModel) -> LoRAWeights {
        var rng = TestRNG(state: seed)
        var pairs = [String: LoRAPair]()
        for path in modules {
            let site = LinearSite(modulePath: path)!
            let (out, inF) = m.dimensions(of: site)
            pairs[path] = LoRAPair(a: f32Data([r, inF], rng.floats(r * inF, scale: 0.3)),
                                   b: f32Data([out, r], rng.floats(out * r, scale: 0.3)), scale: alpha / Double(r))
        }
        return LoRAWeights(config: LoRAConfig(rank: r, alpha: alpha, targetModules: []), modules: pairs)
    }

    let everySite: [String] = {
        var s = [String]()
        for i in 0..<2 {
            for k in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "fc1", "fc2"] {
                s.append("model.encoder.layers.\(i).\(k)"); s.append("model.decoder.layers.\(i).\(k)")
            }
            for k in ["q_proj", "k_proj", "v_proj", "out_proj"] { s.append("model.decoder.layers.\(i).encoder_attn.\(k)") }
        }
        return s
    }()

    func logits(_ m: WhisperModel, _ adapters: ActiveAdapters) throws -> [Float] {
        var rng = TestRNG(state: 5)
        let feats = rng.floats(m.config.numMelBins * m.inputFrames, scale: 1)
        let enc = try m.encode(features: feats, compute: testCompute, adapters: adapters)
        var st = m.makeDecoderState(encoderOutput: enc, compute: testCompute, adapters: adapters)
        var out = try m.decode(tokens: [3, 9, 4], tokensPerBeam: 3, state: &st, compute: testCompute, adapters: adapters)
        st.selectBeams([0, 0])
        out += try m.decode(tokens: [5, 6], tokensPerBeam: 1, state: &st, compute: testCompute, adapters: adapters)
        return out
    }

    /// Merged (W + s B A) and unmerged (x W^T + s (x A^T) B^T) agree; a mix of two experts with
    /// weights equals merging both with those weights; the base model is never changed.
    func testMergedAndUnmergedAgreeOnEverySite() throws {
        let base = try WhisperModel(checkpoint: tinyCheckpoint())
        let a = adapter(everySite, rank: 4, alpha: 8, seed: 11, model: base)
        let b = adapter(Array(everySite.shuffled().prefix(10)).sorted(), rank: 2, alpha: 2, seed: 12, model: base)
        let baseLogits = try logits(base, .none)
        for mix in [[(a, 1.0)], [(a, 0.7), (b, 0.3)]] {
            let unmerged = try logits(base, ActiveAdapters(mix.map { ($0.0, $0.1) }, for: base))
            let merged = try logits(base.merged(with: mix.map { ($0.0, $0.1) }, compute: testCompute), .none)
            XCTAssertLessThan(relError(unmerged, merged), 1e-5)
            XCTAssertGreaterThan(relError(unmerged, baseLogits), 1e-3, "the adapter must change the output")
        }
        XCTAssertEqual(try logits(base, .none), baseLogits, "base weights are untouched")
        // weight 0 = no adapter
        XCTAssertLessThan(relError(try logits(base, ActiveAdapters([(a, 0)], for: base)), baseLogits), 1e-6)
    }

    func testAdapterErrors() throws {
        let base = try WhisperModel(checkpoint: tinyCheckpoint())
        var bad = adapter(["model.encoder.layers.0.fc1"], rank: 2, alpha: 2, seed: 1, model: base)
        bad.modules["model.encoder.layers.0.encoder_attn.q_proj"] = bad.modules["model.encoder.layers.0.fc1"]
        XCTAssertThrowsError(try ActiveAdapters([(bad, 1)], for: base)) {
            XCTAssertEqual($0 as? WhisperModelError, .unknownAdapterModule("model.encoder.layers.0.encoder_attn.q_proj"))
        }
        let wrong = adapter(["model.decoder.layers.1.fc2"], rank: 2, alpha: 2, seed: 1, model: base)
        var swapped = wrong
        swapped.modules = ["model.decoder.layers.1.fc1": wrong.modules["model.decoder.layers.1.fc2"]!]
        XCTAssertThrowsError(try ActiveAdapters([(swapped, 1)], for: base))
        XCTAssertNil(LinearSite(modulePath: "model.decoder.layers.x.fc1"))
        XCTAssertEqual(LinearSite(modulePath: "model.decoder.layers.3.encoder_attn.v_proj"),
                       LinearSite(stack: .decoder, layer: 3, kind: .crossV))
    }
}
