import Compose
import Eval
import Foundation
import GlossaCore
import Tensor
import Training
import Whisper

/// Settings of the composition methods that train on a manifest (`learned`, `distill`).
public struct CompositionTraining: Sendable {
    /// Calibration (learned) or distillation (distill) manifest, JSONL.
    public var manifest: String
    /// Dev manifest: its loss is recorded.
    public var dev: String?
    /// Optimizer steps (nil: learned 40; distill 2 epochs over the manifest).
    public var steps: Int?
    public var batchSize = 4
    /// nil: learned 0.02 (fusion weights), distill 5e-4 (a student that starts from `linear`).
    public var learningRate: Double?
    public var distillation = DistillationConfig()
    public var granularity: FusionGranularity = .layer
    public init(manifest: String) { self.manifest = manifest }

    func recipeParams(_ method: CompositionMethod, manifestDigest: Digest, devDigest: Digest?) -> [String: ScalarValue] {
        var p: [String: ScalarValue] = ["manifest": .string(manifestDigest.description), "batch_size": .number(Double(batchSize))]
        if let devDigest { p["dev_manifest"] = .string(devDigest.description) }
        if let steps { p["steps"] = .number(Double(steps)) }
        if let learningRate { p["learning_rate"] = .number(learningRate) }
        switch method {
        case .learned: p["granularity"] = .string(granularity.rawValue)
        case .distill:
            p["temperature"] = .number(distillation.temperature); p["ce_weight"] = .number(distillation.ceWeight)
        default: break
        }
        return p
    }
}

extension SpeechModel {
    /// The prompt tokens training uses, from this model's tokenizer (not hard-coded ids).
    var trainingSpecials: Training.SpecialTokens {
        Training.SpecialTokens(startOfTranscript: specials.sot, endOfText: specials.eot, transcribe: specials.transcribe,
                               noTimestamps: specials.noTimestamps)
    }
}

/// The trained half of `Composition`: examples from the manifest, then learned fusion weights or
/// a distilled student.
struct TrainedComposition {
    let job: Composition
    let training: CompositionTraining
    let registry: Registry
    let compute: Compute
    let log: (String) -> Void
    let progress: (Int, Int) -> Void

    struct Output {
        var adapter: FusedAdapter
        var metrics: [String: Double]
        var dataDigest: Digest
    }

    func run(inputs: [ComposeInput]) throws(GlossaError) -> Output {
        let base = job.experts[0].base
        let (checkpoint, _) = try registry.loadBase(base.description)
        let speech = try SpeechModel(checkpoint: checkpoint, compute: compute, origin: base.description, precision: .float32)
        let covered = Set(job.experts.flatMap(\.manifest.coveredLanguages))
        let (entries, digest) = try Evaluation.readManifest(training.manifest)
        let uncovered = Set(entries.map(\.lang)).subtracting(covered).sorted()
        if !uncovered.isEmpty {
            throw GlossaError(.invalidInput, "\(training.manifest) has utterances in \(uncovered.joined(separator: ", ")), which no expert serves (experts cover \(covered.sorted().joined(separator: ", "))); add experts for them or filter the manifest")
        }
        log("preparing features of \(training.manifest)")
        let train = try examples(training.manifest, speech: speech, inputs: inputs)
        let dev = try training.dev.map { d throws(GlossaError) in try examples(d, speech: speech, inputs: inputs) } ?? []
        // Utterances run concurrently, one per core; BLAS single-threaded inside each.
        compute.blas.setThreads(1)
        defer { compute.blas.setThreads(compute.threads) }
        switch job.method {
        case .learned: return try learned(inputs, speech: speech, train: train, dataDigest: digest)
        default: return try distill(inputs, speech: speech, train: train, dev: dev, dataDigest: digest)
        }
    }

    func learned(_ inputs: [ComposeInput], speech: SpeechModel, train: [TrainingExample],
                 dataDigest: Digest) throws(GlossaError) -> Output {
        var c = LearnedFusionConfig()
        c.granularity = training.granularity; c.steps = training.steps ?? c.steps; c.batchSize = training.batchSize
        c.learningRate = training.learningRate ?? c.learningRate; c.seed = job.seed; c.concurrentUtterances = compute.threads
        let result: LearnedFusionResult
        do {
            let fusion = try LearnedFusion(base: speech.model, experts: inputs.map(\.adapter), config: c, special: speech.trainingSpecials, compute: compute)
            result = try fusion.run(train: train) { step, total, _ in progress(step, total) }
        } catch { throw GlossaError(.invalidInput, "Learned fusion failed: \(error)") }
        var metrics: [String: Double] = ["final_train_loss": result.losses.last ?? 0]
        for (g, group) in result.groups.enumerated() {
            for (e, w) in result.weights[g].enumerated() { metrics["fusion_weight/\(group)/\(job.experts[e].ref)"] = Double(w) }
        }
        return Output(adapter: Self.fused(result.adapter), metrics: metrics, dataDigest: dataDigest)
    }

    func distill(_ inputs: [ComposeInput], speech: SpeechModel, train: [TrainingExample], dev: [TrainingExample],
                 dataDigest: Digest) throws(GlossaError) -> Output {
        // The student starts from the experts' linear fusion at the target rank.
        let start: FusedAdapter
        do {
            start = try Composer(blas: compute.blas).fuse(inputs, FusionOptions(method: .linear, rank: job.rank))
        } catch { throw GlossaError(.invalidInput, "Cannot initialise the student: \(error)") }
        var c = TrainingConfig()
        c.rank = job.rank ?? start.modules.values.map(\.rank).max() ?? 16
        c.alpha = Double(c.rank)
        c.epochs = 2; c.maxSteps = training.steps; c.batchSize = training.batchSize
        c.learningRate = training.learningRate ?? 5e-4; c.seed = job.seed; c.predictLanguage = true
        c.concurrentUtterances = compute.threads
        if !dev.isEmpty { c.evalEvery = 0 }
        let result: TrainingResult
        do {
            var trainer = LoRATrainer(base: speech.model, config: c, special: speech.trainingSpecials, compute: compute)
            trainer.initialParameters = try LoRAParameters(start.loraWeights)
            trainer.distillation = training.distillation
            for (input, e) in zip(inputs, job.experts) {
                let teacher = try LoRAParameters(input.adapter)
                for l in e.manifest.coveredLanguages { if let id = speech.specials.languageIDs[l] { trainer.teachers[id] = teacher } }
            }
            result = try trainer.run(train: train, dev: dev, progress: { p in progress(p.step, p.totalSteps); return .proceed })
        } catch {
            throw GlossaError(.failure, "Distillation failed: \(error); nothing was published (re-run to start over)")
        }
        var metrics: [String: Double] = [:]
        if let l = result.provenance.finalTrainLoss { metrics["final_train_loss"] = l }
        if let d = result.provenance.bestDevLoss { metrics["dev_loss"] = d }
        metrics["steps"] = Double(result.provenance.steps)
        let student: LoRAParameters
        do { student = try LoRAParameters(result.weights) } catch { throw GlossaError(.failure, "Cannot read the student: \(error)") }
        return Output(adapter: Self.fused(student), metrics: metrics, dataDigest: dataDigest)
    }

    /// Trainer factors (scale folded into B) as the composer's adapter type, so the result is
    /// stored like every other composite (scale 1, rank patterns where ranks differ).
    static func fused(_ p: LoRAParameters) -> FusedAdapter {
        var modules: [String: FusedModule] = [:]
        for (name, f) in zip(p.names, p.factors) {
            let inF = f.a.count / f.rank, outF = f.b.count / f.rank
            modules[name] = FusedModule(a: f.a, b: f.scale == 1 ? f.b : f.b.map { $0 * f.scale }, rank: f.rank, inF: inF, outF: outF)
        }
        return FusedAdapter(modules: modules)
    }

    /// Training examples of a manifest; a line without text (unlabeled audio) is transcribed
    /// by its language's expert first (greedy), and that transcript is its target.
    func examples(_ path: String, speech: SpeechModel, inputs: [ComposeInput]) throws(GlossaError) -> [TrainingExample] {
        let (entries, _) = try Evaluation.readManifest(path)
        var expertOf: [String: Int] = [:]
        for (i, e) in job.experts.enumerated() { for l in e.manifest.coveredLanguages { expertOf[l] = expertOf[l] ?? i } }
        var out: [TrainingExample] = []
        var pseudo = 0
        for (i, e) in entries.enumerated() {
            let input = try UtteranceInput(e, index: i, manifest: path, tokenizer: speech.tokenizer, mel: speech.features)
            let features = input.features
            var text = e.text.trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                guard job.method == .distill, let x = expertOf[e.lang] else {
                    throw GlossaError(.invalidInput, "\(path):\(i + 1): utterance \(e.id) has no text; only --method distill labels audio with its teacher")
                }
                let teacher = LoadedExpert(name: inputs[x].name, language: e.lang, id: inputs[x].name, weights: inputs[x].adapter)
                let router = try ExpertRouter(experts: [teacher], routing: .all, model: speech.model)
                var settings = TranscribeSettings(language: e.lang, beamSize: 1)
                settings.temperatures = [0]
                text = try speech.transcribeWindow(features, settings: settings, router: router).text.trimmingCharacters(in: .whitespaces)
                pseudo += 1
            }
            out.append(TrainingExample(id: e.id, features: features, languageToken: input.languageToken,
                                       transcript: speech.tokenizer.encode(" " + text)))
            progress(i + 1, entries.count)
        }
        if pseudo > 0 { log("\(pseudo) unlabeled utterances of \(path) labelled by their teachers") }
        return out
    }
}
