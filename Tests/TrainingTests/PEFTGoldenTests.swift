import XCTest
import Foundation
import GlossaCore
import Tensor
import Whisper
import WhisperTesting
@testable import Training

/// The trainer against transformers + peft on the same tiny random Whisper (golden values from
/// scripts/golden/train_peft_tiny.py): loss, every LoRA gradient, and one clipped AdamW step.
/// The record holds no weights: the base is `TinyWhisper.make` (which the script's numpy twin
/// reproduces byte for byte), and the factors and features are drawn by rules both sides share.
final class PEFTGoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct Dims: Decodable { let d, enc, dec, heads, ffn, vocab, mels, src, tgt: Int }
        struct F: Decodable { let A: [Float]; let B: [Float] }
        struct L: Decodable { let rank: Int; let alpha: Double; let targets: [String]; let grads, after: [String: F] }
        struct S: Decodable { let sot, eot, transcribe, notimestamps, language: Int }
        struct O: Decodable { let lr, weight_decay, clip: Double }
        let dims: Dims
        let base_seed, value_seed: UInt64
        let value_scale: Float
        let special: S
        let lora: L
        let transcripts: [[Int]]
        let loss: Double
        let grad_norm: Double
        let adamw: O
    }

    func load() throws -> Golden {
        guard let url = Bundle.module.url(forResource: "peft_tiny_step", withExtension: "json", subdirectory: "Golden") else {
            throw Peer.missing("golden file missing; run scripts/golden/train_peft_tiny.py")
        }
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    func setUp(_ g: Golden) throws -> (WhisperTrainingGraph, LoRAParameters, Training.SpecialTokens) {
        let dims = TinyWhisper.Dimensions(dModel: g.dims.d, encoderLayers: g.dims.enc, decoderLayers: g.dims.dec, heads: g.dims.heads,
                                          ffnDim: g.dims.ffn, vocabSize: g.dims.vocab, numMelBins: g.dims.mels,
                                          maxSourcePositions: g.dims.src, maxTargetPositions: g.dims.tgt)
        let checkpoint = TinyWhisper.make(seed: g.base_seed, dimensions: dims)
        let graph = WhisperTrainingGraph(model: try WhisperModel(checkpoint: checkpoint), compute: testCompute)
        var p = try LoRAParameters.initialise(model: checkpoint.config, targets: g.lora.targets, scope: .both, rank: g.lora.rank, alpha: g.lora.alpha, seed: 0)
        XCTAssertEqual(Set(p.names), Set(g.lora.grads.keys))
        // Factor F of module M: value_scale * uniform(-1, 1) from SplitMix64 seeded value_seed ^ FNV-1a("M.lora_F").
        func drawn(_ name: String, _ count: Int) -> [Float] {
            TinyWhisper.uniform(seed: g.value_seed, name: name, count: count, scale: g.value_scale)
        }
        for (k, n) in p.names.enumerated() {
            p.factors[k].a = drawn("\(n).lora_A", p.factors[k].a.count)
            p.factors[k].b = drawn("\(n).lora_B", p.factors[k].b.count)
        }
        let sp = Training.SpecialTokens(startOfTranscript: g.special.sot, endOfText: g.special.eot, transcribe: g.special.transcribe, noTimestamps: g.special.notimestamps)
        return (graph, p, sp)
    }

    /// Utterance u's features [mels, 2 * src]: ((u*7 + m*31 + t*17) % 101) / 50 - 1, exact in f32.
    func examples(_ g: Golden) -> [TrainingExample] {
        let frames = 2 * g.dims.src
        return g.transcripts.enumerated().map { u, t in
            let features = (0 ..< g.dims.mels * frames).map { i in Float((u * 7 + i / frames * 31 + i % frames * 17) % 101) / 50 - 1 }
            return TrainingExample(id: "u\(u)", features: features, languageToken: g.special.language, transcript: t)
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float, _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        for i in a.indices where abs(a[i] - b[i]) > atol + rtol * abs(b[i]) {
            XCTFail("\(what)[\(i)]: \(a[i]) vs peft \(b[i])"); return
        }
    }

    func testLossAndGradientsMatchPEFT() throws {
        let g = try load()
        let (graph, p, sp) = try setUp(g)
        let ex = examples(g)
        let tokens = ex.reduce(0) { $0 + $1.transcript.count + 1 }
        var grads = p.zeros()
        var loss = 0.0
        for e in ex {
            let s = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: sp)
            loss += graph.lossAndGradients(.features(e.features), tokens: s.input, targets: s.targets, lora: p, grads: &grads, gradScale: 1 / Float(tokens)).lossSum
        }
        // f32 on both sides, different summation orders: 1e-5 relative on the loss.
        XCTAssertEqual(loss / Double(tokens), g.loss, accuracy: 1e-5 * g.loss)
        XCTAssertEqual(grads.squaredNorm().squareRoot(), g.grad_norm, accuracy: 1e-4 * g.grad_norm)
        for (k, n) in p.names.enumerated() {
            assertClose(grads.factors[k].a, g.lora.grads[n]!.A, atol: 1e-6, rtol: 1e-3, "\(n) dA")
            assertClose(grads.factors[k].b, g.lora.grads[n]!.B, atol: 1e-6, rtol: 1e-3, "\(n) dB")
        }
    }

    /// The encoder's attention probabilities are kept from step to step (`ProbsPool`; only
    /// whisper-size buffers by default, every one here): gradients computed in reused buffers,
    /// round after round and across utterances, equal those of fresh ones bit for bit.
    func testReusedProbabilityBuffersGiveTheSameGradients() throws {
        let g = try load()
        let (plain, p, sp) = try setUp(g)
        let pooled = WhisperTrainingGraph(model: plain.model, compute: testCompute, concurrentUtterances: 1, keepProbsFrom: 0)
        func gradients(_ graph: WhisperTrainingGraph, _ e: TrainingExample) -> [Float] {
            let s = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: sp)
            var grads = p.zeros()
            _ = graph.lossAndGradients(.features(e.features), tokens: s.input, targets: s.targets, lora: p, grads: &grads, gradScale: 1)
            return grads.factors.flatMap { $0.a + $0.b }
        }
        let ex = examples(g)
        let reference = ex.map { gradients(plain, $0) }
        XCTAssertEqual(plain.probsPool.count, 0, "tiny buffers are not kept by default")
        for round in 0..<2 {
            for (i, e) in ex.enumerated() { XCTAssertEqual(gradients(pooled, e), reference[i], "round \(round), utterance \(i)") }
        }
        XCTAssertEqual(pooled.probsPool.count, g.dims.enc, "each encoder layer's probabilities wait for the next step")
    }

    func testOneTrainerStepMatchesClippedAdamW() throws {
        let g = try load()
        let (graph, p, sp) = try setUp(g)
        var c = TrainingConfig()
        c.rank = g.lora.rank; c.alpha = g.lora.alpha; c.targets = g.lora.targets; c.scope = .both
        c.learningRate = g.adamw.lr; c.warmupSteps = 0; c.decay = .constant; c.maxSteps = 1; c.batchSize = 2
        c.adamW = AdamWConfig(weightDecay: g.adamw.weight_decay); c.clipNorm = g.adamw.clip
        let trainer = LoRATrainer(base: graph.model, config: c, special: sp, compute: testCompute)
        let ex = examples(g)
        var state = try trainer.initialState(train: ex)
        state.params = p; state.adam = AdamWState(like: p)
        let r = try trainer.run(train: ex, resume: state)
        // Adam's first step moves each value by about lr in the gradient's sign direction; a
        // value whose gradient is ~0 is ill-conditioned (m/sqrt(v) ~ g/|g|), so atol covers lr * 1e-2.
        for (k, n) in p.names.enumerated() {
            assertClose(r.state.params.factors[k].a, g.lora.after[n]!.A, atol: 1e-4, rtol: 1e-4, "\(n) A after step")
            assertClose(r.state.params.factors[k].b, g.lora.after[n]!.B, atol: 1e-4, rtol: 1e-4, "\(n) B after step")
        }
    }
}
