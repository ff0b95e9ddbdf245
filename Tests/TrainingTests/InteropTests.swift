import XCTest
import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper
@testable import Training
import WhisperTesting

/// What the trainer produces works elsewhere: the runtime (unmerged LoRA) computes the same
/// encoder output and decoder loss as the training graph, and the adapter survives a PEFT
/// folder round trip bit for bit.
final class InteropTests: XCTestCase {
    static let special = SpecialTokens(startOfTranscript: 50, endOfText: 49, transcribe: 51, noTimestamps: 52)

    func trained() throws -> (WhisperCheckpoint, TrainingResult, [TrainingExample]) {
        let ckpt = TinyWhisper.makeNormal(seed: 11, dimensions: .gradientCheck)
        var rng = SeededGenerator(seed: 5)
        let ex = (0..<4).map { i in
            TrainingExample(id: "u\(i)", features: randomArray(32, &rng), languageToken: 53, transcript: [3 + i, 7, 9])
        }
        var c = TrainingConfig()
        c.rank = 2; c.alpha = 4; c.learningRate = 5e-2; c.warmupSteps = 0; c.maxSteps = 4; c.batchSize = 2; c.seed = 1
        let r = try LoRATrainer(base: try WhisperModel(checkpoint: ckpt), config: c, special: Self.special, compute: testCompute).run(train: ex)
        return (ckpt, r, ex)
    }

    func testRuntimeMatchesTheTrainingGraph() throws {
        let blas: BLASLibrary
        do { blas = try BLASLibrary.load(coreType: .automatic, threads: 1) } catch { throw Peer.missing("OpenBLAS not available: \(error)") }
        let (ckpt, r, ex) = try trained()
        XCTAssertGreaterThan(r.state.params.factors.map { $0.b.map(abs).max()! }.max()!, 0.01, "training must have moved B")
        let graph = WhisperTrainingGraph(model: try WhisperModel(checkpoint: ckpt), compute: Compute(blas: blas, threads: 1))
        let model = try WhisperModel(checkpoint: ckpt)
        let adapters = try ActiveAdapters([(weights: r.weights, mix: 1.0)], for: model)
        let compute = Compute(blas: blas, threads: 1)
        for e in ex {
            let mine = graph.encode(e.features, lora: r.state.params)
            let theirs = try model.encode(features: e.features, compute: compute, adapters: adapters)
            XCTAssertEqual(theirs.data.count, mine.count)
            for i in mine.indices { XCTAssertEqual(theirs.data[i], mine[i], accuracy: 1e-4, "encoder output \(e.id)[\(i)]") }
            // Decoder: the runtime's logits give the same teacher-forced loss.
            let seq = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: Self.special)
            var state = model.makeDecoderState(encoderOutput: theirs, compute: compute, adapters: adapters)
            let logits = try model.decode(tokens: seq.input, tokensPerBeam: seq.input.count, state: &state, compute: compute, adapters: adapters)
            let v = model.vocabSize
            var loss = 0.0
            for (t, y) in seq.targets.enumerated() where y >= 0 {
                let row = logits[(t * v)..<((t + 1) * v)].map(Double.init)
                let mx = row.max()!
                loss += log(row.map { exp($0 - mx) }.reduce(0, +)) + mx - row[y]
            }
            let graphLoss = graph.loss(.features(e.features), tokens: seq.input, targets: seq.targets, lora: r.state.params).lossSum
            XCTAssertEqual(loss, graphLoss, accuracy: 1e-4 * max(1, abs(graphLoss)), "decoder loss \(e.id)")
        }
    }

    func testPEFTFolderRoundTrip() throws {
        let (_, r, _) = try trained()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-peft-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try PEFTAdapter(weights: r.weights).write(to: dir)
        let back = try PEFTAdapter.load(folder: dir)
        XCTAssertEqual(back.weights.modules.count, r.weights.modules.count)
        for (name, pair) in r.weights.modules {
            XCTAssertEqual(back.weights.modules[name]?.a, pair.a, name)
            XCTAssertEqual(back.weights.modules[name]?.b, pair.b, name)
            XCTAssertEqual(back.weights.modules[name]?.scale, pair.scale, name)
        }
        XCTAssertEqual(back.weights.config.rank, 2)
        XCTAssertEqual(back.weights.config.alpha, 4)
    }
}
