import GlossaCore

/// Hyper-parameters of one LoRA training run. Recorded verbatim in the provenance.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var rank: Int = 16
    public var alpha: Double = 32
    public var useRSLoRA: Bool = false
    /// PEFT-style target suffixes (`q_proj`, `fc1`, `encoder_attn.k_proj` ...).
    public var targets: [String] = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
    public var scope: AdapterScope = .both
    public var learningRate: Double = 1e-3
    public var warmupSteps: Int = 10
    public var decay: LRSchedule.Decay = .cosine
    /// Stop after this many epochs (ignored when `maxSteps` is set).
    public var epochs: Int = 1
    /// Stop after this many optimizer steps.
    public var maxSteps: Int? = nil
    /// Utterances per optimizer step; the loss is the mean over all their target tokens.
    public var batchSize: Int = 4
    public var adamW = AdamWConfig()
    /// Global gradient-norm clip (nil: none).
    public var clipNorm: Double? = 1.0
    /// Seeds LoRA init and data order.
    public var seed: UInt64 = 0
    /// Dev evaluation period in steps (0: only at the end).
    public var evalEvery: Int = 0
    /// Early stopping: stop after this many dev evaluations without improvement (nil: never).
    public var patience: Int? = nil
    /// Minimum dev-loss decrease that counts as an improvement.
    public var minDelta: Double = 0
    /// Utterances of a batch processed concurrently (1: sequential, BLAS may still thread).
    public var concurrentUtterances: Int = 2
    /// Reuse each utterance's encoder output across epochs when no adapter is in the encoder.
    public var cacheEncoderOutputs: Bool = true
    /// Also train the language token after SOT (`teacherForcedSequence(predictLanguage:)`), so
    /// the adapter does language ID: for language-agnostic composites.
    public var predictLanguage: Bool = false

    public init() {}

    /// The PEFT/GlossaCore LoRA config these settings produce. With scope `both` the target
    /// suffixes are kept; otherwise the full module names are listed so PEFT targets exactly them.
    public func loraConfig(modules: [String]) -> LoRAConfig {
        LoRAConfig(rank: rank, alpha: alpha, targetModules: scope == .both ? targets : modules, useRSLoRA: useRSLoRA)
    }

    func validate(examples: Int) throws(TrainingError) {
        guard examples > 0 else { throw .badConfig("no training examples") }
        guard batchSize > 0 else { throw .badConfig("batch size must be positive, got \(batchSize)") }
        guard learningRate > 0 else { throw .badConfig("learning rate must be positive, got \(learningRate)") }
        guard maxSteps.map({ $0 > 0 }) ?? (epochs > 0) else { throw .badConfig("set epochs > 0 or steps > 0") }
        guard concurrentUtterances > 0 else { throw .badConfig("concurrentUtterances must be positive") }
    }

    /// Optimizer steps for `n` examples.
    public func totalSteps(examples n: Int) -> Int {
        maxSteps ?? epochs * ((n + batchSize - 1) / batchSize)
    }
}

/// One utterance ready for training: log-mel features and transcript token ids.
public struct TrainingExample: Sendable {
    public var id: String
    /// Log-mel [n_mels, F], F even (Whisper: 3000 frames = 30 s).
    public var features: [Float]
    /// Language token id (e.g. <|fr|>).
    public var languageToken: Int
    /// Transcript token ids without special tokens.
    public var transcript: [Int]
    public init(id: String, features: [Float], languageToken: Int, transcript: [Int]) {
        self.id = id; self.features = features; self.languageToken = languageToken; self.transcript = transcript
    }
}
