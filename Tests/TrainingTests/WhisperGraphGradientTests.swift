import XCTest
import GlossaCore
import Whisper
@testable import Training
import WhisperTesting

/// The full teacher-forced graph of a tiny random Whisper against finite differences of its loss.
final class WhisperGraphGradientTests: XCTestCase {
    static let special = SpecialTokens(startOfTranscript: 50, endOfText: 49, transcribe: 51, noTimestamps: 52)

    func makeGraph() throws -> WhisperTrainingGraph {
        WhisperTrainingGraph(model: try WhisperModel(checkpoint: TinyWhisper.makeNormal(seed: 11, dimensions: .gradientCheck)), compute: testCompute)
    }

    /// LoRA with random (nonzero) B so every factor has a nonzero gradient.
    func randomLoRA(scope: AdapterScope, seed: UInt64) throws -> LoRAParameters {
        var p = try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
                                              scope: scope, rank: 2, alpha: 4, seed: seed)
        var rng = SeededGenerator(seed: seed + 1)
        for m in p.factors.indices { p.factors[m].b = p.factors[m].b.map { _ in 0.5 * rng.normal() } }
        return p
    }

    func testSequenceMasksThePromptAndEndsWithEOT() {
        let s = teacherForcedSequence(language: 53, transcript: [7, 8, 9], special: Self.special)
        XCTAssertEqual(s.input, [50, 53, 51, 52, 7, 8, 9])
        XCTAssertEqual(s.targets, [-1, -1, -1, 7, 8, 9, 49])
    }

    func testPEFTInitialisation() throws {
        let p = try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["q_proj", "fc2"], scope: .decoder, rank: 4, alpha: 8, seed: 3)
        XCTAssertEqual(p.names, ["model.decoder.layers.0.self_attn.q_proj", "model.decoder.layers.0.encoder_attn.q_proj", "model.decoder.layers.0.fc2",
                                 "model.decoder.layers.1.self_attn.q_proj", "model.decoder.layers.1.encoder_attn.q_proj", "model.decoder.layers.1.fc2"])
        let fc2 = p["model.decoder.layers.0.fc2"]!
        XCTAssertEqual(fc2.a.count, 4 * 16); XCTAssertEqual(fc2.b.count, 8 * 4); XCTAssertEqual(fc2.scale, 2)
        XCTAssertTrue(fc2.b.allSatisfy { $0 == 0 })
        XCTAssertTrue(fc2.a.allSatisfy { abs($0) <= 0.25 })      // 1/sqrt(16)
        XCTAssertGreaterThan(fc2.a.map(abs).max()!, 0.2)
        XCTAssertEqual(p, try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["q_proj", "fc2"], scope: .decoder, rank: 4, alpha: 8, seed: 3))
        XCTAssertThrowsError(try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["qkv"], scope: .both, rank: 4, alpha: 8, seed: 3))
    }

    func testZeroBLeavesTheBaseModelUnchanged() throws {
        let g = try makeGraph()
        let p = try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["q_proj", "fc1"], scope: .both, rank: 2, alpha: 4, seed: 1)
        var rng = SeededGenerator(seed: 5)
        let feats = randomArray(4 * 8, &rng)
        let s = teacherForcedSequence(language: 53, transcript: [3, 4, 5], special: Self.special)
        let a = g.loss(.features(feats), tokens: s.input, targets: s.targets, lora: p)
        let b = g.loss(.features(feats), tokens: s.input, targets: s.targets, lora: nil)
        XCTAssertEqual(a.lossSum, b.lossSum)
        XCTAssertEqual(a.count, 4)
    }

    /// One model definition: a frozen encoder runs through the runtime's `WhisperModel.encode`;
    /// an adapted one through the recording blocks, which sum in the runtime's order. With
    /// zero B (and with no tape kept) the two must agree bit for bit.
    func testRecordingEncoderComputesWhatTheRuntimeEncoderComputes() throws {
        let g = try makeGraph()
        let p = try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["q_proj", "v_proj", "out_proj", "fc1", "fc2"],
                                              scope: .encoder, rank: 2, alpha: 4, seed: 2)
        XCTAssertTrue(p.hasEncoderAdapters)
        var rng = SeededGenerator(seed: 8)
        let feats = randomArray(4 * 8, &rng)
        let runtime = g.model.encode(features: feats, frames: 8, compute: testCompute).data
        XCTAssertEqual(g.encode(feats, lora: p), runtime)
        XCTAssertEqual(g.encode(feats), runtime)
    }

    func testFullGraphGradientsEncoderAndDecoder() throws { try fullGraphCheck(scope: .both) }
    func testFullGraphGradientsDecoderOnlyFromCachedEncoderOutput() throws { try fullGraphCheck(scope: .decoder, cached: true) }
    func testFullGraphGradientsEncoderOnly() throws { try fullGraphCheck(scope: .encoder) }

    private func fullGraphCheck(scope: AdapterScope, cached: Bool = false) throws {
        let g = try makeGraph()
        let lora = try randomLoRA(scope: scope, seed: 21)
        var rng = SeededGenerator(seed: 6)
        let feats = randomArray(4 * 8, &rng)
        let s = teacherForcedSequence(language: 53, transcript: [3, 4, 5, 60], special: Self.special)
        let input: WhisperTrainingGraph.EncoderInput = cached ? .encoded(g.encode(feats), rows: 4) : .features(feats)
        var grads = lora.zeros()
        let scale: Float = 0.25
        let r = g.lossAndGradients(input, tokens: s.input, targets: s.targets, lora: lora, grads: &grads, gradScale: scale)
        XCTAssertEqual(r.count, 5)
        XCTAssertEqual(r.lossSum, g.loss(input, tokens: s.input, targets: s.targets, lora: lora).lossSum, accuracy: 1e-9)
        XCTAssertGreaterThan(grads.squaredNorm(), 0)
        // Every adapted module: dA and dB against finite differences of scale * lossSum.
        for m in lora.names.indices {
            checkGradient("\(lora.names[m]).A", at: lora.factors[m].a, analytic: grads.factors[m].a, eps: 1e-2, samples: 6) { a in
                var l = lora; l.factors[m].a = a
                return Double(scale) * g.loss(input, tokens: s.input, targets: s.targets, lora: l).lossSum
            }
            checkGradient("\(lora.names[m]).B", at: lora.factors[m].b, analytic: grads.factors[m].b, eps: 1e-2, samples: 6) { b in
                var l = lora; l.factors[m].b = b
                return Double(scale) * g.loss(input, tokens: s.input, targets: s.targets, lora: l).lossSum
            }
        }
    }
}
