import Eval
import Foundation
import GlossaCore
import Tensor
import Training
import Whisper

/// Trains a LoRA expert on a registry base from JSONL manifests and publishes it with its
/// provenance (data digest, hyperparameters, steps, seed, base digest, tool version) and dev
/// metrics.
///
/// With one language, every manifest line must be in it (a language expert). With several,
/// the lines may mix them and the result is a multilingual adapter (language "mul", the
/// "standard multilingual LoRA" baseline language experts are compared with); each utterance
/// is still prompted with its own language token.
public struct ExpertTraining: Sendable {
    public var base: String
    /// Sorted, unique Whisper language codes the adapter is trained on.
    public var languages: [String]
    public var trainManifest: String
    public var devManifest: String?
    public var config: TrainingConfig
    public var name: String
    public var version: String
    public var license = "MIT"
    public var description = ""
    /// Where the resumable trainer state is kept (nil: no checkpoints).
    public var stateFile: URL?
    public var checkpointEvery = 20

    public init(base: String, languages: [String], trainManifest: String, devManifest: String?, config: TrainingConfig,
                name: String, version: String) {
        self.base = base; self.languages = Array(Set(languages)).sorted(); self.trainManifest = trainManifest
        self.devManifest = devManifest; self.config = config; self.name = name; self.version = version
    }

    /// The manifest's `language`: the one code, or "mul" for several.
    public var language: String { ExpertManifest.languageFields(covering: languages).language }

    public struct Outcome: Sendable {
        public var digest: Digest
        public var manifest: ExpertManifest
        public var provenance: TrainingProvenance
        public var devWER: Double?
        public var interrupted: Bool
    }

    /// Log-mel of the first 30 s and transcript tokens of each manifest line.
    /// Every line's language must be one of `languages`, and each of them must have a line.
    static func examples(_ path: String, languages: [String], tokenizer: BPETokenizer, mel: LogMelSpectrogram,
                         progress: (Int, Int) -> Void) throws(GlossaError) -> ([TrainingExample], Digest) {
        let (entries, digest) = try Evaluation.readManifest(path)
        for (i, e) in entries.enumerated() where !languages.contains(e.lang) {
            let hint = languages.count == 1 ? "filter the manifest to '\(languages[0])' lines, or pass --lang \(languages[0]),\(e.lang) to train a multilingual adapter"
                                            : "add it to --lang or remove those lines"
            throw GlossaError(.invalidInput, "\(path):\(i + 1): utterance \(e.id) is in '\(e.lang)', not in --lang \(languages.joined(separator: ",")); \(hint)")
        }
        let missing = Set(languages).subtracting(entries.map(\.lang)).sorted()
        if !missing.isEmpty {
            throw GlossaError(.invalidInput, "\(path) has no utterance in \(missing.joined(separator: ", ")), which --lang asks for; add some or drop them from --lang")
        }
        var out: [TrainingExample] = []
        for (i, e) in entries.enumerated() {
            let input = try UtteranceInput(e, index: i, manifest: path, tokenizer: tokenizer, mel: mel)
            // Whisper transcripts start with a space (the tokenizer's word-initial pieces).
            out.append(TrainingExample(id: e.id, features: input.features, languageToken: input.languageToken,
                                       transcript: tokenizer.encode(" " + e.text.trimmingCharacters(in: .whitespaces))))
            progress(i + 1, entries.count)
        }
        return (out, digest)
    }

    public func run(registry: Registry, compute: Compute, log: (String) -> Void,
                    progress: (TrainingProgress) -> TrainingControl) throws(GlossaError) -> Outcome {
        guard !languages.isEmpty else { throw GlossaError(.invalidInput, "No language given; pass --lang (e.g. fr, or de,fr,nl,pl)") }
        // Refuse a bad or taken name:version before minutes of training, not after.
        if let p = ArtifactName.problem(with: name) { throw GlossaError(.invalidInput, "--name \(p)") }
        if SemanticVersion(version) == nil { throw GlossaError(.invalidInput, "--version '\(version)' is not a semantic version (e.g. 1.0.0)") }
        do { try registry.store.checkVersionFree(name: name, version: version) } catch {
            throw Registry.wrap(error, "Cannot train \(name):\(version)")
        }
        let (checkpoint, baseDigest) = try registry.loadBase(base)
        let speech = try SpeechModel(checkpoint: checkpoint, compute: compute, origin: baseDigest.description, precision: .float32)
        for l in languages where speech.specials.languageIDs[l] == nil {
            throw GlossaError(.invalidInput, "Unknown language code '\(l)' for base \(base) (Whisper codes such as de, fr, nl, pl)")
        }
        log("preparing features of \(trainManifest)")
        let (train, trainDigest) = try Self.examples(trainManifest, languages: languages, tokenizer: speech.tokenizer, mel: speech.features) { _, _ in }
        var dev: [TrainingExample] = []
        if let devManifest {
            dev = try Self.examples(devManifest, languages: languages, tokenizer: speech.tokenizer, mel: speech.features) { _, _ in }.0
        }
        // Utterances run concurrently, one per core; BLAS single-threaded inside each.
        compute.blas.setThreads(1)
        defer { compute.blas.setThreads(compute.threads) }
        let trainer = LoRATrainer(base: speech.model, config: config, special: speech.trainingSpecials, compute: compute)
        var resume: TrainerState? = nil
        if let cp = stateFile, FileManager.default.fileExists(atPath: cp.path) {
            do { resume = try TrainerState.read(from: cp); log("resuming from \(cp.path) at step \(resume!.step)") } catch {
                throw GlossaError(.invalidInput, "Cannot resume from \(cp.path): \(error); delete it to start over")
            }
        }
        let result: TrainingResult
        do {
            result = try trainer.run(train: train, dev: dev, resume: resume, checkpointEvery: stateFile == nil ? 0 : checkpointEvery,
                                     checkpoint: stateFile.map { url in { (s: TrainerState) throws in try s.write(to: url) } },
                                     progress: progress)
        } catch { throw GlossaError(.failure, "Training failed: \(error)") }
        if result.interrupted {
            return Outcome(digest: baseDigest, manifest: try placeholder(result, baseDigest), provenance: result.provenance,
                           devWER: nil, interrupted: true)
        }
        // Dev WER with the runtime (greedy, language given), on the trained adapter.
        var metrics: [String: Double] = [:]
        if let d = result.provenance.bestDevLoss { metrics["dev_loss"] = d }
        var devWER: Double? = nil
        if let devManifest {
            let expert = LoadedExpert(name: name, language: language, languages: languages, id: "training", weights: result.weights)
            let router = try ExpertRouter(experts: [expert], routing: .all, model: speech.model)
            let report = try Evaluation(mode: .languageAware, beamSize: 1, workers: compute.threads)
                .run(manifestPath: devManifest, model: speech, router: router, modelName: name, modelDigest: nil)
            devWER = report.overall.wer ?? report.overall.cer
            if let w = devWER { metrics["dev_wer"] = w }
        }
        let manifest = try publishable(result, baseDigest: baseDigest, baseWeights: try registry.baseWeights(baseDigest),
                                       dataDigest: trainDigest, metrics: metrics)
        let digest: Digest
        do {
            var tensors: [String: LoRATensorEntry] = [:]
            for (module, pair) in manifest.1 {
                tensors[module] = LoRATensorEntry(a: try registry.store.putTensor(pair.a), b: try registry.store.putTensor(pair.b))
            }
            var m = manifest.0
            m.tensors = tensors
            digest = try registry.store.publish(m)
            if let cp = stateFile { try? FileManager.default.removeItem(at: cp) }
            return Outcome(digest: digest, manifest: m, provenance: result.provenance, devWER: devWER, interrupted: false)
        } catch { throw Registry.wrap(error, "Cannot publish trained expert \(name):\(version)") }
    }

    func publishable(_ r: TrainingResult, baseDigest: Digest, baseWeights: Digest? = nil, dataDigest: Digest,
                     metrics: [String: Double]) throws(GlossaError) -> (ExpertManifest, [String: LoRAPair]) {
        let c = r.provenance.config
        var hyper: [String: ScalarValue] = [
            "rank": .number(Double(c.rank)), "alpha": .number(c.alpha), "learning_rate": .number(c.learningRate),
            "epochs": .number(Double(c.epochs)), "batch_size": .number(Double(c.batchSize)),
            "warmup_steps": .number(Double(c.warmupSteps)), "scope": .string(c.scope.rawValue),
            "seed": .string(String(r.provenance.seed)), "steps": .number(Double(r.provenance.steps)),
            "targets": .string(c.targets.joined(separator: ",")), "examples_digest": .string(r.provenance.dataDigest.description),
        ]
        if let m = c.maxSteps { hyper["max_steps"] = .number(Double(m)) }
        if let l = r.provenance.finalTrainLoss { hyper["final_train_loss"] = .number(l) }
        let created = Registry.now()
        // Tensor entries are filled in after the blobs are stored; a placeholder table keeps the
        // manifest valid for the checks below.
        let entries = r.weights.modules.mapValues { p in
            LoRATensorEntry(a: TensorEntry(digest: Digest(of: p.a.bytes), dtype: p.a.dtype, shape: p.a.shape),
                            b: TensorEntry(digest: Digest(of: p.b.bytes), dtype: p.b.dtype, shape: p.b.shape))
        }
        let m = ExpertManifest(name: name, version: version, language: language, base: baseDigest, lora: r.weights.config,
                               tensors: entries,
                               provenance: Provenance(dataDigest: dataDigest, hyperparameters: hyper, toolVersion: GlossaVersion.tool, created: created),
                               metrics: metrics, license: license, description: description,
                               languages: ExpertManifest.languageFields(covering: languages).languages,
                               baseWeights: baseWeights)
        do { try m.validate() } catch { throw GlossaError(.invalidInput, "Cannot publish \(name):\(version): \(error)") }
        return (m, r.weights.modules)
    }

    func placeholder(_ r: TrainingResult, _ base: Digest) throws(GlossaError) -> ExpertManifest {
        try publishable(r, baseDigest: base, dataDigest: r.provenance.dataDigest, metrics: [:]).0
    }
}
