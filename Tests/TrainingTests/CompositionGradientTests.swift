import GlossaCore
import XCTest
import Whisper
@testable import Training
import WhisperTesting

/// Learned fusion and distillation against finite differences, on a tiny random Whisper.
final class CompositionGradientTests: XCTestCase {
    static let special = SpecialTokens(startOfTranscript: 50, endOfText: 49, transcribe: 51, noTimestamps: 52)
    let base = try! WhisperModel(checkpoint: TinyWhisper.makeNormal(seed: 11, dimensions: .gradientCheck))

    func randomLoRA(scope: AdapterScope = .both, rank: Int = 2, seed: UInt64) throws -> LoRAParameters {
        var p = try LoRAParameters.initialise(model: TinyWhisper.config(.gradientCheck), targets: ["q_proj", "v_proj", "fc1", "fc2"],
                                              scope: scope, rank: rank, alpha: Double(2 * rank), seed: seed)
        var rng = SeededGenerator(seed: seed + 1)
        for m in p.factors.indices { p.factors[m].b = p.factors[m].b.map { _ in 0.5 * rng.normal() } }
        return p
    }

    func example(_ seed: UInt64, language: Int = 53) -> TrainingExample {
        var rng = SeededGenerator(seed: seed)
        return TrainingExample(id: "u\(seed)", features: randomArray(4 * 8, &rng), languageToken: language, transcript: [3, 4, 5, 60])
    }

    func testSequenceCanTargetTheLanguageToken() {
        let s = teacherForcedSequence(language: 53, transcript: [7], special: Self.special, predictLanguage: true)
        XCTAssertEqual(s.targets, [53, -1, -1, 7, 49])
    }

    func testKLTermIsZeroWhenTheStudentIsTheTeacher() throws {
        let g = WhisperTrainingGraph(model: base, compute: testCompute)
        let teacher = try randomLoRA(seed: 3)
        let e = example(1)
        let s = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: Self.special)
        let (logits, _) = g.logits(.features(e.features), tokens: s.input, targets: s.targets, lora: teacher)
        let probs = softmaxRows(logits, vocab: 64, temperature: 2)
        var grads = teacher.zeros()
        let r = g.lossAndGradients(.features(e.features), tokens: s.input, targets: s.targets, lora: teacher, grads: &grads, gradScale: 1,
                                   objective: .distill(teacherProbs: probs, temperature: 2, ceWeight: 0))
        XCTAssertEqual(r.count, 5)
        XCTAssertEqual(r.lossSum, 0, accuracy: 1e-5, "KL(p || p) = 0")
        XCTAssertLessThan(grads.squaredNorm().squareRoot(), 1e-4, "and so is its gradient")
        // Another student: positive KL.
        var other = teacher.zeros()
        let r2 = g.lossAndGradients(.features(e.features), tokens: s.input, targets: s.targets, lora: try randomLoRA(seed: 8), grads: &other,
                                    gradScale: 1, objective: .distill(teacherProbs: probs, temperature: 2, ceWeight: 0))
        XCTAssertGreaterThan(r2.lossSum, 1e-3)
    }

    func testDistillationGradientsMatchFiniteDifferences() throws {
        let g = WhisperTrainingGraph(model: base, compute: testCompute)
        let teacher = try randomLoRA(seed: 3), student = try randomLoRA(seed: 5)
        let e = example(2)
        let s = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: Self.special, predictLanguage: true)
        let (tl, _) = g.logits(.features(e.features), tokens: s.input, targets: s.targets, lora: teacher)
        let objective = TokenObjective.distill(teacherProbs: softmaxRows(tl, vocab: 64, temperature: 1.5), temperature: 1.5, ceWeight: 0.7)
        func loss(_ l: LoRAParameters) -> Double {
            var scratch = l.zeros()
            return 0.5 * g.lossAndGradients(.features(e.features), tokens: s.input, targets: s.targets, lora: l, grads: &scratch,
                                            gradScale: 0.5, objective: objective).lossSum
        }
        var grads = student.zeros()
        let r = g.lossAndGradients(.features(e.features), tokens: s.input, targets: s.targets, lora: student, grads: &grads, gradScale: 0.5,
                                   objective: objective)
        XCTAssertEqual(r.count, 6, "language row + 4 tokens + EOT")
        for m in student.names.indices {
            checkGradient("\(student.names[m]).A", at: student.factors[m].a, analytic: grads.factors[m].a, samples: 5) { a in
                var l = student; l.factors[m].a = a; return loss(l)
            }
            checkGradient("\(student.names[m]).B", at: student.factors[m].b, analytic: grads.factors[m].b, samples: 5) { b in
                var l = student; l.factors[m].b = b; return loss(l)
            }
        }
    }

    func testLearnedFusionWeightGradientsMatchFiniteDifferences() throws {
        let experts = [try randomLoRA(seed: 3), try randomLoRA(scope: .decoder, rank: 3, seed: 7)]
        let config = LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj"])
        for granularity in FusionGranularity.allCases {
            var c = LearnedFusionConfig(); c.granularity = granularity
            let fusion = try LearnedFusion(base: base, experts: experts.map { $0.loraWeights(config: config) }, config: c, special: Self.special, compute: testCompute)
            var rng = SeededGenerator(seed: 4)
            let w = fusion.initialWeights.map { $0.map { $0 + 0.3 * rng.normal() } }
            let e = example(3)
            let r = fusion.lossAndWeightGradients(e, weights: w, gradScale: 0.25)
            XCTAssertEqual(r.grads.count, granularity == .expert ? 1 : granularity == .layer ? 4 : 20)
            for gi in w.indices {
                checkGradient("\(granularity) \(fusion.groups[gi])", at: w[gi], analytic: r.grads[gi], eps: 1e-2) { x in
                    var ww = w; ww[gi] = x
                    return 0.25 * fusion.lossAndWeightGradients(e, weights: ww, gradScale: 0.25).lossSum
                }
            }
        }
    }

    func testLearnedFusionCatEqualsWeightedExperts() throws {
        // At weights w the fused adapter's delta is sum_e w_e s_e B_e A_e: check it on the loss.
        let experts = [try randomLoRA(seed: 3), try randomLoRA(seed: 9)]
        let config = LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj"])
        var c = LearnedFusionConfig(); c.granularity = .expert
        let fusion = try LearnedFusion(base: base, experts: experts.map { $0.loraWeights(config: config) }, config: c, special: Self.special, compute: testCompute)
        let cat = fusion.catParameters([[1, 0]])
        let g = WhisperTrainingGraph(model: base, compute: testCompute)
        let e = example(5)
        let s = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: Self.special)
        XCTAssertEqual(g.loss(.features(e.features), tokens: s.input, targets: s.targets, lora: cat).lossSum,
                       g.loss(.features(e.features), tokens: s.input, targets: s.targets, lora: experts[0]).lossSum, accuracy: 1e-4)
    }

    func testLearnedFusionTrainsDeterministically() throws {
        let experts = [try randomLoRA(seed: 3), try randomLoRA(seed: 9)]
        let config = LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj"])
        var c = LearnedFusionConfig(); c.steps = 6; c.batchSize = 2; c.learningRate = 0.05; c.granularity = .layer
        let fusion = try LearnedFusion(base: base, experts: experts.map { $0.loraWeights(config: config) }, config: c, special: Self.special, compute: testCompute)
        let train = (0..<4).map { example(UInt64(10 + $0)) }
        let a = try fusion.run(train: train), b = try fusion.run(train: train)
        XCTAssertEqual(a.weights, b.weights)
        XCTAssertEqual(a.losses.count, 6)
        XCTAssertNotEqual(a.weights, fusion.initialWeights, "the weights moved")
        XCTAssertLessThan(a.losses.suffix(2).reduce(0, +), a.losses.prefix(2).reduce(0, +), "calibration loss goes down")
    }

    func testDistillationTrainerNeedsATeacherPerLanguage() throws {
        var c = TrainingConfig(); c.rank = 2; c.alpha = 4; c.maxSteps = 3; c.batchSize = 2; c.warmupSteps = 1
        c.targets = ["q_proj", "v_proj", "fc1", "fc2"]; c.predictLanguage = true
        var trainer = LoRATrainer(base: base, config: c, special: Self.special, compute: testCompute)
        trainer.distillation = DistillationConfig(temperature: 2, ceWeight: 0.5)
        trainer.teachers = [53: try randomLoRA(seed: 3)]
        trainer.initialParameters = try randomLoRA(seed: 5)
        let train = [example(1), example(2), example(3, language: 54)]
        XCTAssertThrowsError(try trainer.run(train: train)) { XCTAssertTrue("\($0)".contains("no teacher"), "\($0)") }
        trainer.teachers[54] = try randomLoRA(seed: 4)
        let r = try trainer.run(train: train)
        XCTAssertEqual(r.provenance.steps, 3)
        XCTAssertEqual(r.weights.modules.count, trainer.initialParameters!.names.count)
        XCTAssertNotEqual(try LoRAParameters(r.weights), trainer.initialParameters!, "the student moved from its start")
        XCTAssertEqual(try LoRAParameters(trainer.run(train: train).weights), try LoRAParameters(r.weights), "deterministic")
    }
}
