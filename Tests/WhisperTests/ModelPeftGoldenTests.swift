import XCTest
import Foundation
import GlossaCore
import Tensor
import TensorIO
@testable import Whisper

/// Logits with a LoRA adapter against transformers + peft (scripts/golden/model_peft.py):
/// a tiny random HF Whisper, LoRA on all 32 supported linears (one with rank/alpha pattern).
final class ModelPeftGoldenTests: XCTestCase {
    func testLogitsMatchTransformersAndPeft() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
            .appendingPathComponent("model/peft_tiny.safetensors")
        let file = try SafeTensors.read(url)
        func floats(_ k: String) throws -> [Float] { try HalfConversion.floats(from: XCTUnwrap(file[k], k)) }
        var tensors = [String: TensorData]()
        var modules = [String: LoRAPair]()
        for name in file.names {
            if name.hasPrefix("base.") { tensors[String(name.dropFirst(5))] = file[name]! }
            if name.hasPrefix("lora."), name.hasSuffix(".A") {
                let module = String(name.dropFirst(5).dropLast(2))
                modules[module] = LoRAPair(a: file[name]!, b: file["lora.\(module).B"]!, scale: Double(try floats("scale.\(module)")[0]))
            }
        }
        XCTAssertEqual(modules.count, 32)
        XCTAssertEqual(modules["model.decoder.layers.1.fc1"]?.rank, 2)
        let config = WhisperConfig(numMelBins: 8, dModel: 32, encoderLayers: 2, encoderAttentionHeads: 4, encoderFFNDim: 64,
                                   decoderLayers: 2, decoderAttentionHeads: 4, decoderFFNDim: 64, vocabSize: 96,
                                   maxSourcePositions: 16, maxTargetPositions: 24, suppressTokens: [], beginSuppressTokens: [])
        let base = try WhisperModel(checkpoint: WhisperCheckpoint(config: config, tensors: tensors, tokenizerJSON: []))
        let lora = LoRAWeights(config: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]),
                               modules: modules)
        let features = try floats("features")
        let tokens = try floats("tokens").map { Int($0) }

        func logits(_ m: WhisperModel, _ a: ActiveAdapters) throws -> [Float] {
            let enc = try m.encode(features: features, compute: testCompute, adapters: a)
            var st = m.makeDecoderState(encoderOutput: enc, compute: testCompute, adapters: a)
            return try m.decode(tokens: tokens, tokensPerBeam: tokens.count, state: &st, compute: testCompute, adapters: a)
        }
        let expectBase = try floats("logits_base"), expectLoRA = try floats("logits_lora")
        let gotBase = try logits(base, .none)
        let gotUnmerged = try logits(base, ActiveAdapters([(lora, 1)], for: base))
        let gotMerged = try logits(base.merged(with: [(lora, 1)], compute: testCompute), .none)
        print("peft golden rel errors: base \(relError(gotBase, expectBase)) unmerged \(relError(gotUnmerged, expectLoRA)) merged \(relError(gotMerged, expectLoRA))")
        XCTAssertLessThan(relError(gotBase, expectBase), 1e-4)
        XCTAssertLessThan(relError(gotUnmerged, expectLoRA), 1e-4)
        XCTAssertLessThan(relError(gotMerged, expectLoRA), 1e-4)
        XCTAssertLessThan(relError(gotMerged, gotUnmerged), 1e-5)
    }
}
