import XCTest
import Foundation
import GlossaCore
import Tensor
import Whisper
@testable import Training

/// The trainer against transformers + peft on the same tiny random Whisper (golden values from
/// scripts/golden/train_peft_tiny.py): loss, every LoRA gradient, and one clipped AdamW step.
final class PEFTGoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct T: Decodable { let shape: [Int]; let values: [Float] }
        struct F: Decodable { let A: [Float]; let B: [Float] }
        struct L: Decodable { let rank: Int; let alpha: Double; let targets: [String]; let before, grads, after: [String: F] }
        struct S: Decodable { let sot, eot, transcribe, notimestamps, language: Int }
        struct O: Decodable { let lr, weight_decay, clip: Double }
        let config: WhisperConfig
        let special: S
        let tensors: [String: T]
        let lora: L
        let features: [Float]
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
        let tensors = g.tensors.mapValues { HalfConversion.f32Data($0.values, shape: $0.shape) }
        let graph = WhisperTrainingGraph(model: try WhisperModel(checkpoint: WhisperCheckpoint(config: g.config, tensors: tensors, tokenizerJSON: [])), compute: testCompute)
        var p = try LoRAParameters.initialise(model: g.config, targets: g.lora.targets, scope: .both, rank: g.lora.rank, alpha: g.lora.alpha, seed: 0)
        XCTAssertEqual(Set(p.names), Set(g.lora.before.keys))
        for (k, n) in p.names.enumerated() { p.factors[k].a = g.lora.before[n]!.A; p.factors[k].b = g.lora.before[n]!.B }
        let sp = Training.SpecialTokens(startOfTranscript: g.special.sot, endOfText: g.special.eot, transcribe: g.special.transcribe, noTimestamps: g.special.notimestamps)
        return (graph, p, sp)
    }

    func examples(_ g: Golden) -> [TrainingExample] {
        g.transcripts.enumerated().map { i, t in
            TrainingExample(id: "u\(i)", features: Array(g.features[(i * 32)..<((i + 1) * 32)]), languageToken: g.special.language, transcript: t)
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
