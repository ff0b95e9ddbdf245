import XCTest
import GlossaCore
import Whisper
@testable import Training
import WhisperTesting

/// The optimizer, schedule and loop on a tiny random Whisper: learning, bit-identical
/// reproducibility, resume after a kill, early stopping, encoder-output caching.
final class TrainerTests: XCTestCase {
    static let special = SpecialTokens(startOfTranscript: 50, endOfText: 49, transcribe: 51, noTimestamps: 52)
    let base = try! WhisperModel(checkpoint: TinyWhisper.makeNormal(seed: 11, dimensions: .gradientCheck))

    /// Utterances whose transcript is a function of the features, so there is something to learn.
    func examples(_ n: Int, seed: UInt64) -> [TrainingExample] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { i in
            let cls = i % 3
            let feats = (0..<32).map { j in Float(cls) * (j % 4 == cls ? 1 : 0) + 0.3 * rng.normal() }
            let transcript = [[3, 4, 5], [10, 11], [20, 21, 22, 23]][cls]
            return TrainingExample(id: "u\(i)", features: feats, languageToken: 53, transcript: transcript)
        }
    }

    func config(scope: AdapterScope = .both, steps: Int = 12) -> TrainingConfig {
        var c = TrainingConfig()
        c.rank = 2; c.alpha = 4; c.scope = scope; c.learningRate = 3e-2; c.warmupSteps = 2
        c.maxSteps = steps; c.batchSize = 3; c.seed = 7; c.concurrentUtterances = 2
        return c
    }

    func testScheduleWarmsUpThenDecays() {
        let s = LRSchedule(peak: 1, warmupSteps: 4, totalSteps: 14, decay: .cosine)
        XCTAssertEqual(s.rate(at: 0), 0.25); XCTAssertEqual(s.rate(at: 3), 1)
        XCTAssertEqual(s.rate(at: 4), 1); XCTAssertEqual(s.rate(at: 13), 0, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 8), 0.5 * (1 + cos(Double.pi * 4 / 9)), accuracy: 1e-12)
        let l = LRSchedule(peak: 2, warmupSteps: 0, totalSteps: 11, decay: .linear)
        XCTAssertEqual(l.rate(at: 5), 1, accuracy: 1e-12)
    }

    func testAdamWMatchesTheScalarFormula() {
        let p0 = LoRAParameters(names: ["m"], factors: [LoRAFactors(a: [1, -2], b: [0.5], rank: 1, scale: 1)])
        let g = LoRAParameters(names: ["m"], factors: [LoRAFactors(a: [0.1, 0.3], b: [-1], rank: 1, scale: 1)])
        var p = p0, s = AdamWState(like: p0)
        let cfg = AdamWConfig(weightDecay: 0.1)
        adamWStep(&p, grads: g, state: &s, lr: 0.01, cfg)
        adamWStep(&p, grads: g, state: &s, lr: 0.01, cfg)
        // Reference in Double: two identical gradients -> m/(1-b1^t) = g, v/(1-b2^t) = g^2.
        func ref(_ x0: Double, _ gr: Double) -> Double {
            var x = x0
            for _ in 0..<2 { x = x * (1 - 0.01 * 0.1) - 0.01 * gr / (abs(gr) + 1e-8) }
            return x
        }
        XCTAssertEqual(Double(p.factors[0].a[0]), ref(1, 0.1), accuracy: 1e-6)
        XCTAssertEqual(Double(p.factors[0].a[1]), ref(-2, 0.3), accuracy: 1e-6)
        XCTAssertEqual(Double(p.factors[0].b[0]), ref(0.5, -1), accuracy: 1e-6)
    }

    func testClipScalesToTheMaximumNorm() {
        var g = LoRAParameters(names: ["m"], factors: [LoRAFactors(a: [3, 0], b: [4], rank: 1, scale: 1)])
        XCTAssertEqual(clipGlobalNorm(&g, maxNorm: 1), 5, accuracy: 1e-9)
        XCTAssertEqual(g.squaredNorm().squareRoot(), 1, accuracy: 1e-5)
        var small = LoRAParameters(names: ["m"], factors: [LoRAFactors(a: [0.3], b: [0.4], rank: 1, scale: 1)])
        clipGlobalNorm(&small, maxNorm: 1)
        XCTAssertEqual(small.factors[0].a, [0.3])
    }

    func testTrainingLowersTheLossAndIsBitReproducible() throws {
        let train = examples(9, seed: 1), dev = examples(3, seed: 2)
        let trainer = LoRATrainer(base: base, config: config(steps: 24), special: Self.special, compute: testCompute)
        let before = trainer.devLoss(try trainer.initialState(train: train).params, dev: dev)
        var losses: [Double] = []
        var evaluated: [Int] = []
        let a = try trainer.run(train: train, dev: dev, devEvaluator: { w in ["modules": Double(w.modules.count)] },
                                progress: { p in
            losses.append(p.loss)
            if let m = p.devMetrics { evaluated.append(p.step); XCTAssertEqual(m["modules"], 32); XCTAssertNotNil(p.devLoss) }
            return .proceed
        })
        XCTAssertEqual(evaluated, [24], "evalEvery 0: dev metrics at the end only")
        XCTAssertEqual(losses.count, 24)
        XCTAssertLessThan(a.provenance.bestDevLoss!, 0.85 * before, "dev loss \(before) -> \(a.provenance.bestDevLoss!)")
        XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +))
        // Same data and seed: identical bits, also when run sequentially.
        var seq = config(steps: 24); seq.concurrentUtterances = 1
        let b = try LoRATrainer(base: base, config: seq, special: Self.special, compute: testCompute).run(train: train, dev: dev)
        XCTAssertTrue(a.weights == b.weights, "same seed and data must give identical weights")
        XCTAssertTrue(a.state.params == b.state.params)
        // Another seed: different weights.
        var other = config(steps: 24); other.seed = 8
        let c = try LoRATrainer(base: base, config: other, special: Self.special, compute: testCompute).run(train: train, dev: dev)
        XCTAssertFalse(a.state.params == c.state.params)
        XCTAssertEqual(a.provenance.dataDigest, examplesDigest(train))
        XCTAssertEqual(a.provenance.steps, 24)
        XCTAssertEqual(a.weights.modules.count, a.state.params.names.count)
    }

    func testResumeAfterKillGivesTheSameBits() throws {
        let train = examples(9, seed: 1)
        let trainer = LoRATrainer(base: base, config: config(steps: 10), special: Self.special, compute: testCompute)
        let straight = try trainer.run(train: train)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-train-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("state.bin")
        // "Kill" after step 4 (epoch boundary is at 3 steps: the kill lands mid-epoch 2).
        let first = try trainer.run(train: train, checkpointEvery: 2, checkpoint: { try $0.write(to: file) }, progress: { p in p.step == 4 ? .stop : .proceed })
        XCTAssertTrue(first.interrupted)
        let restored = try TrainerState.read(from: file)
        XCTAssertTrue(restored == first.state, "state must round-trip through the file")
        XCTAssertEqual(restored.step, 4)
        let resumed = try trainer.run(train: train, resume: restored)
        XCTAssertTrue(resumed.state.params == straight.state.params, "resume must give the uninterrupted run's bits")
        XCTAssertTrue(resumed.weights == straight.weights)
        // A state from another configuration is refused.
        var other = config(steps: 10); other.seed = 99
        XCTAssertThrowsError(try LoRATrainer(base: base, config: other, special: Self.special, compute: testCompute).run(train: train, resume: restored))
        // A truncated file is reported, not misread.
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count - 3).write(to: file)
        XCTAssertThrowsError(try TrainerState.read(from: file)) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
    }

    func testEarlyStoppingKeepsTheBestWeights() throws {
        let train = examples(9, seed: 1), dev = examples(3, seed: 2)
        var c = config(steps: 40); c.learningRate = 0.3; c.evalEvery = 1; c.patience = 2; c.minDelta = 1e9   // nothing after the first eval counts
        let r = try LoRATrainer(base: base, config: c, special: Self.special, compute: testCompute).run(train: train, dev: dev)
        XCTAssertTrue(r.provenance.stoppedEarly)
        XCTAssertEqual(r.provenance.steps, 3)
        XCTAssertEqual(r.provenance.keptStep, 1)
        XCTAssertFalse(r.state.best == r.state.params)
        XCTAssertTrue(r.weights == r.state.best!.loraWeights(config: r.weights.config), "the kept weights are the best step's")
    }

    func testEncoderCacheDoesNotChangeDecoderOnlyTraining() throws {
        let train = examples(6, seed: 3)
        var cached = config(scope: .decoder, steps: 4); cached.cacheEncoderOutputs = true
        var uncached = cached; uncached.cacheEncoderOutputs = false
        let a = try LoRATrainer(base: base, config: cached, special: Self.special, compute: testCompute).run(train: train)
        let b = try LoRATrainer(base: base, config: uncached, special: Self.special, compute: testCompute).run(train: train)
        XCTAssertTrue(a.state.params == b.state.params, "caching must not change the result")
        XCTAssertTrue(a.state.params.names.allSatisfy { $0.hasPrefix("model.decoder.") })
        XCTAssertEqual(a.weights.config.targetModules, a.state.params.names)
    }

    func testRejectsOverlongTranscripts() throws {
        var e = examples(1, seed: 1)
        e[0].transcript = Array(repeating: 3, count: 13)
        XCTAssertThrowsError(try LoRATrainer(base: base, config: config(), special: Self.special, compute: testCompute).run(train: e)) { err in
            XCTAssertTrue("\(err)".contains("u0"), "\(err)")
        }
    }
}
