import XCTest
import Foundation
import GlossaCore
import Tensor
import TensorIO
import WhisperTesting
@testable import Whisper

/// Logits with a LoRA adapter against transformers + peft (scripts/golden/model_peft.py):
/// a tiny Whisper, LoRA on all 32 supported linears (one with a rank/alpha pattern).
/// Nothing but the record is committed: the base is `TinyWhisper.make` (which the script's
/// numpy twin reproduces byte for byte) and the factors are drawn the same way on both sides.
final class ModelPeftGoldenTests: XCTestCase {
    struct Record: Decodable {
        struct Dims: Decodable { var d, enc, dec, heads, ffn, vocab, mels, src, tgt: Int }
        struct Module: Decodable { var rank: Int; var scale: Double }
        var dims: Dims
        var base_seed: UInt64
        var value_seed: UInt64
        var value_scale: Float
        var tokens: [Int]
        var modules: [String: Module]
        var logits_base: [Float]
        var logits_lora: [Float]
    }

    func testLogitsMatchTransformersAndPeft() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
            .appendingPathComponent("model/peft_tiny.json")
        let r = try JSONDecoder().decode(Record.self, from: Data(contentsOf: url))
        let dims = TinyWhisper.Dimensions(dModel: r.dims.d, encoderLayers: r.dims.enc, decoderLayers: r.dims.dec, heads: r.dims.heads,
                                          ffnDim: r.dims.ffn, vocabSize: r.dims.vocab, numMelBins: r.dims.mels,
                                          maxSourcePositions: r.dims.src, maxTargetPositions: r.dims.tgt)
        let checkpoint = TinyWhisper.make(seed: r.base_seed, dimensions: dims)
        let base = try WhisperModel(checkpoint: checkpoint)

        var modules = [String: LoRAPair]()
        for (module, m) in r.modules {
            let shape = try XCTUnwrap(checkpoint.tensors[module + ".weight"], module).shape  // [out, in]
            let (outputs, inputs) = (shape[0], shape[1])
            func factor(_ name: String, _ shape: [Int]) -> TensorData {
                .float32(shape: shape, TinyWhisper.uniform(seed: r.value_seed, name: "\(module).\(name)", count: shape.reduce(1, *), scale: r.value_scale))
            }
            modules[module] = LoRAPair(a: factor("lora_A", [m.rank, inputs]), b: factor("lora_B", [outputs, m.rank]), scale: m.scale)
        }
        XCTAssertEqual(modules.count, 32)
        XCTAssertEqual(modules["model.decoder.layers.1.fc1"]?.rank, 2)
        XCTAssertEqual(r.modules["model.decoder.layers.1.fc1"]?.scale, 3)
        let lora = LoRAWeights(config: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]),
                               modules: modules)
        // features[m, t] = ((m*31 + t*17) % 101) / 50 - 1, exact in f32.
        let frames = 2 * r.dims.src
        let features = (0 ..< r.dims.mels * frames).map { i in Float((i / frames * 31 + i % frames * 17) % 101) / 50 - 1 }

        func logits(_ m: WhisperModel, _ a: ActiveAdapters) throws -> [Float] {
            let enc = try m.encode(features: features, compute: testCompute, adapters: a)
            var st = m.makeDecoderState(encoderOutput: enc, compute: testCompute, adapters: a)
            return try m.decode(tokens: r.tokens, tokensPerBeam: r.tokens.count, state: &st, compute: testCompute, adapters: a)
        }
        let gotBase = try logits(base, .none)
        let gotUnmerged = try logits(base, ActiveAdapters([(lora, 1)], for: base))
        let gotMerged = try logits(base.merged(with: [(lora, 1)], compute: testCompute), .none)
        print("peft golden rel errors: base \(relError(gotBase, r.logits_base)) unmerged \(relError(gotUnmerged, r.logits_lora)) merged \(relError(gotMerged, r.logits_lora))")
        XCTAssertGreaterThan(relError(r.logits_lora, r.logits_base), 0.1, "the adapter must change the logits")
        XCTAssertLessThan(relError(gotBase, r.logits_base), 1e-4)
        XCTAssertLessThan(relError(gotUnmerged, r.logits_lora), 1e-4)
        XCTAssertLessThan(relError(gotMerged, r.logits_lora), 1e-4)
        XCTAssertLessThan(relError(gotMerged, gotUnmerged), 1e-5)
    }
}
