import Tensor
import Whisper

// Whisper's teacher-forced training graph: encoder (when adapters sit there) and decoder
// forward with activations kept, softmax cross-entropy over the vocabulary, and backward to
// the LoRA factors only.
//
// One model definition: the weights are the runtime's `WhisperModel` (read in place), the
// kernels are Tensor's `Compute` (the runtime's own), names come from `WhisperLayout`, and a
// frozen encoder is the runtime's `WhisperModel.encode`. What is recorded for backward lives
// in the tapes below; a forward without tape computes what inference computes.
//
//   encoder: mel [n_mels, F] -> gelu(conv1) -> gelu(conv2, stride 2) [S = F/2, d]
//            + embed_positions[0..<S] -> blocks -> layer_norm            -> enc [S, d]
//   decoder: x [T, d] = embed_tokens[ids] + embed_positions[0..<T] -> blocks(enc) -> layer_norm
//            logits [T, V] = x embed_tokens^T (tied projection)

/// Whisper's special token ids that frame a transcription prompt.
public struct SpecialTokens: Sendable, Codable, Equatable {
    public var startOfTranscript: Int
    public var endOfText: Int
    public var transcribe: Int
    public var noTimestamps: Int
    public init(startOfTranscript: Int, endOfText: Int, transcribe: Int, noTimestamps: Int) {
        self.startOfTranscript = startOfTranscript; self.endOfText = endOfText
        self.transcribe = transcribe; self.noTimestamps = noTimestamps
    }
    /// Ids of multilingual Whisper (tiny ... large-v2): <|startoftranscript|> 50258,
    /// <|endoftext|> 50257, <|transcribe|> 50359, <|notimestamps|> 50363.
    public static let multilingual = SpecialTokens(startOfTranscript: 50258, endOfText: 50257, transcribe: 50359, noTimestamps: 50363)
}

/// Decoder input and per-position targets of one utterance:
///   input   = SOT,  lang, transcribe, notimestamps, t1 ... tn
///   targets = -,    -,    -,          t1,           t2 ... tn, EOT
/// so the loss covers the transcript tokens and EOT only. With `predictLanguage` the first
/// target is the language token (predicted after SOT), so a model trained on it learns
/// language ID too: what a language-agnostic composite needs.
public func teacherForcedSequence(language: Int, transcript: [Int], special: SpecialTokens,
                                  predictLanguage: Bool = false) -> (input: [Int], targets: [Int]) {
    let input = [special.startOfTranscript, language, special.transcribe, special.noTimestamps] + transcript
    let targets = [predictLanguage ? language : ignoreTarget, ignoreTarget, ignoreTarget] + transcript + [special.endOfText]
    return (input, targets)
}

/// Row of the targets from which transcript tokens are predicted (rows before it are the
/// prompt: the language row, then the task rows).
public let transcriptTargetRow = 3

/// What the decoder's logits are trained against.
public enum TokenObjective: Sendable {
    /// Softmax cross-entropy on the targets.
    case crossEntropy
    /// Knowledge distillation (see `distillationLoss`): teacher probabilities at `temperature`
    /// for the rows from the first target row on, [rows, V]; `ceWeight` is lambda.
    case distill(teacherProbs: [Float], temperature: Float, ceWeight: Float)
}

/// Encoder activations kept for backward.
struct EncoderTape {
    var blocks: [BlockTape] = []
    var preNorm: [Float] = []          // [S, d] input of the final layer norm
    var norm = NormCache()
}

/// The training graph over a frozen base model. Immutable; safe to share across threads.
public struct WhisperTrainingGraph: Sendable {
    /// The runtime's model: the graph reads its weights in place.
    public let model: WhisperModel
    /// The shared kernels (Tensor's `Compute`); element-wise threads 1 when utterances run
    /// concurrently.
    public let compute: Compute
    let encoderNames: [BlockNames]
    let decoderNames: [BlockNames]
    /// Views of the model's layers (no copies).
    let encoderBlocks: [FrozenBlock]
    let decoderBlocks: [FrozenBlock]
    /// The encoder's attention probabilities, kept from step to step (see `ProbsPool`).
    let probsPool: ProbsPool

    /// `concurrentUtterances`: how many utterances the caller runs through the graph at once;
    /// above 1 the element-wise loops run on one thread each (the utterances are the parallelism).
    /// A model loaded for transcription (f16 decoder weights) is widened here: backward runs
    /// BLAS on f32 weights in both directions. Load with `.float32` to skip the f16 step.
    /// `keepProbsFrom`: the smallest attention-probability buffer (floats) kept for the next
    /// step; tests lower it so tiny models exercise the reuse.
    public init(model: WhisperModel, compute: Compute, concurrentUtterances: Int = 1) {
        self.init(model: model, compute: compute, concurrentUtterances: concurrentUtterances, keepProbsFrom: ProbsPool.worthKeeping)
    }

    init(model: WhisperModel, compute: Compute, concurrentUtterances: Int, keepProbsFrom: Int) {
        let model = model.widened()
        self.model = model
        self.compute = concurrentUtterances > 1 ? compute.with(threads: 1) : compute
        encoderNames = (0..<model.config.encoderLayers).map { BlockNames(.encoder, $0) }
        decoderNames = (0..<model.config.decoderLayers).map { BlockNames(.decoder, $0) }
        encoderBlocks = model.encoderLayers.map(FrozenBlock.init)
        decoderBlocks = model.decoderLayers.map(FrozenBlock.init)
        probsPool = ProbsPool(capacity: model.config.encoderLayers * max(2, concurrentUtterances), keepFrom: keepProbsFrom)
    }

    var d: Int { model.config.dModel }
    /// Short name for the kernels in the graph's formulas.
    var c: Compute { compute }

    /// Encoder rows S for `features` [n_mels, F] (F even, F/2 <= max_source_positions).
    public func encoderRows(featureCount: Int) throws(TrainingError) -> Int {
        let nm = model.config.numMelBins
        guard featureCount % nm == 0, (featureCount / nm) % 2 == 0, featureCount / nm / 2 <= model.config.maxSourcePositions else {
            throw .badExample(id: "?", reason: "features have \(featureCount) values; expected [\(nm), F] with even F <= \(2 * model.config.maxSourcePositions)")
        }
        return featureCount / nm / 2
    }

    /// Encoder forward. features [n_mels, F] -> enc [F/2, d].
    ///
    /// A frozen encoder (no adapter in `lora`'s encoder sites) runs through the runtime's own
    /// `WhisperModel.encode`: the same code transcription runs, nothing to record. An adapted
    /// encoder runs the recording blocks below (keeping the tape when `keepTape`) from the
    /// runtime's stem, so forward-only losses and gradients see the same function.
    func encoderForward(_ features: [Float], lora: LoRAParameters?, keepTape: Bool) -> (out: [Float], rows: Int, tape: EncoderTape) {
        let cfg = model.config
        let frames = features.count / cfg.numMelBins
        guard let lora, lora.hasEncoderAdapters else {
            precondition(!keepTape, "encoderForward: nothing to record in a frozen encoder")
            let e = model.encode(features: features, frames: frames, compute: c)
            return (e.data, e.frames, EncoderTape())
        }
        var y = model.encoderStem(features: features, frames: frames, compute: c)
        let s = frames / 2
        var tape = EncoderTape()
        for (i, blk) in encoderBlocks.enumerated() {
            let r = blockForward(c, y, rows: s, blk, encoderNames[i], lora, heads: cfg.encoderAttentionHeads, causal: false, enc: nil, encRows: 0,
                                 keepTape: keepTape, pool: probsPool)
            y = r.y
            if keepTape { tape.blocks.append(r.tape) }
        }
        let n = layerNormForward(c, y, rows: s, gamma: model.encoderNorm.gamma, beta: model.encoderNorm.beta)
        if keepTape { tape.preNorm = y; tape.norm = n }
        return (n.y, s, tape)
    }

    /// Encoder output without a tape: what the trainer caches per utterance when no adapter
    /// sits in the encoder (then the runtime's encoder computes it). features [n_mels, F] -> [F/2, d].
    public func encode(_ features: [Float], lora: LoRAParameters? = nil) -> [Float] {
        encoderForward(features, lora: lora, keepTape: false).out
    }

    /// Encoder backward from dEnc [S, d] to the encoder LoRA factors. Each block's tape is
    /// freed once used, its attention probabilities back to the pool for the next step.
    func encoderBackward(_ dEnc: [Float], tape: inout EncoderTape, rows s: Int, lora: LoRAParameters, grads: inout LoRAParameters) {
        let lowest = encoderNames.firstIndex { n in n.all.contains { lora.slot($0) != nil } }
        guard let lowest else { return }
        var dy = layerNormBackward(c, dEnc, x: tape.preNorm, tape.norm, rows: s, gamma: model.encoderNorm.gamma)
        for i in stride(from: encoderBlocks.count - 1, through: lowest, by: -1) {
            let r = blockBackward(c, dy, tape: tape.blocks[i], rows: s, encoderBlocks[i], encoderNames[i], lora, &grads,
                                  heads: model.config.encoderAttentionHeads, enc: nil, encRows: 0,
                                  needInputGrad: i > lowest, needEncoderGrad: false)
            if i > lowest { dy = r.dx! }
            probsPool.give(&tape.blocks[i].probs)
            tape.blocks[i] = BlockTape()
        }
    }

    /// Where an utterance's encoder output comes from.
    public enum EncoderInput: Sendable {
        /// Log-mel features [n_mels, F]; the encoder runs (and is trained when adapted).
        case features([Float])
        /// A cached encoder output [S, d] (only valid when no adapter sits in the encoder).
        case encoded([Float], rows: Int)
    }

    /// Teacher-forced loss of one utterance, forward only: (sum of token losses, token count).
    public func loss(_ input: EncoderInput, tokens: [Int], targets: [Int], lora: LoRAParameters?) -> (lossSum: Double, count: Int) {
        let (enc, s): ([Float], Int)
        switch input {
        case .features(let f): let r = encoderForward(f, lora: lora, keepTape: false); (enc, s) = (r.out, r.rows)
        case .encoded(let e, let rows): (enc, s) = (e, rows)
        }
        let r = decoderForward(tokens, targets: targets, enc: enc, encRows: s, lora: lora)
        return (r.ce.lossSum, r.ce.count)
    }

    /// Loss and gradients of one utterance. Gradients of `gradScale * lossSum` wrt every LoRA
    /// factor accumulate into `grads` (callers pass 1 / tokens-in-batch to average over a batch).
    public func lossAndGradients(_ input: EncoderInput, tokens: [Int], targets: [Int], lora: LoRAParameters,
                                 grads: inout LoRAParameters, gradScale: Float,
                                 objective: TokenObjective = .crossEntropy) -> (lossSum: Double, count: Int) {
        let trainEncoder = lora.hasEncoderAdapters
        var encTape = EncoderTape()
        let (enc, s): ([Float], Int)
        switch input {
        case .features(let f):
            let r = encoderForward(f, lora: lora, keepTape: trainEncoder)
            (enc, s, encTape) = (r.out, r.rows, r.tape)
        case .encoded(let e, let rows):
            precondition(!trainEncoder, "lossAndGradients: a cached encoder output cannot train encoder adapters")
            (enc, s) = (e, rows)
        }
        var fwd = decoderForward(tokens, targets: targets, enc: enc, encRows: s, lora: lora, objective: objective)
        let v = model.config.vocabSize, t = tokens.count, first = fwd.firstRow
        switch objective {
        case .crossEntropy: crossEntropyBackward(&fwd.ce.probs, targets: Array(targets[first...]), vocab: v, gradScale: gradScale)
        case .distill: for j in fwd.ce.probs.indices { fwd.ce.probs[j] *= gradScale }   // already dlogits
        }
        // dlogits [T-first, V] -> d(normed x)[T, d] = dlogits E (rows before `first` get zero)
        var dn = [Float](repeating: 0, count: t * d)
        dn.withUnsafeMutableBufferPointer { dp in fwd.ce.probs.withUnsafeBufferPointer { pp in model.tokenEmbedding.withUnsafeBufferPointer { ep in
            c.sgemm(m: t - first, n: d, k: v, alpha: 1, a: pp.baseAddress!, lda: v,
                 b: ep.baseAddress!, ldb: d, beta: 0, c: dp.baseAddress! + first * d, ldc: d)
        } } }
        var dy = layerNormBackward(c, dn, x: fwd.preNorm, fwd.norm, rows: t, gamma: model.decoderNorm.gamma)
        var dEnc: [Float]? = trainEncoder ? [Float](repeating: 0, count: s * d) : nil
        let lowestDecoder = decoderNames.firstIndex { n in n.all.contains { lora.slot($0) != nil } } ?? decoderNames.count
        for i in stride(from: decoderBlocks.count - 1, through: 0, by: -1) {
            if i < lowestDecoder && !trainEncoder { break }
            let r = blockBackward(c, dy, tape: fwd.tapes[i], rows: t, decoderBlocks[i], decoderNames[i], lora, &grads,
                                  heads: model.config.decoderAttentionHeads, enc: enc, encRows: s,
                                  needInputGrad: i > 0 && (i > lowestDecoder || trainEncoder), needEncoderGrad: trainEncoder)
            if let e = r.dEnc, dEnc != nil { addInPlace(&dEnc!, e) }
            if let dx = r.dx { dy = dx }
            fwd.tapes[i] = BlockTape()   // free activations as soon as they are used
        }
        if let dEnc { encoderBackward(dEnc, tape: &encTape, rows: s, lora: lora, grads: &grads) }
        return (fwd.ce.lossSum, fwd.ce.count)
    }

    struct DecoderForward {
        var tapes: [BlockTape]
        var preNorm: [Float]
        var norm: NormCache
        var firstRow: Int
        var ce: (lossSum: Double, count: Int, probs: [Float])
    }

    /// Next-token logits [T - first, V] from the first row that has a target, forward only
    /// (no tape): what a distillation teacher provides.
    public func logits(_ input: EncoderInput, tokens: [Int], targets: [Int], lora: LoRAParameters?) -> (logits: [Float], firstRow: Int) {
        let (enc, s): ([Float], Int)
        switch input {
        case .features(let f): let r = encoderForward(f, lora: lora, keepTape: false); (enc, s) = (r.out, r.rows)
        case .encoded(let e, let rows): (enc, s) = (e, rows)
        }
        let r = decoderForward(tokens, targets: targets, enc: enc, encRows: s, lora: lora, objective: nil, keepTape: false)
        return (r.ce.probs, r.firstRow)
    }

    /// Decoder forward with tapes. tokens [T], targets [T]; logits are computed only from the
    /// first row that has a target (prompt rows carry no loss). `ce.probs` holds, for
    /// cross-entropy, the softmax (backward turns it into dlogits); for distillation, the
    /// unscaled dlogits; with no objective, the logits themselves.
    func decoderForward(_ tokens: [Int], targets: [Int], enc: [Float], encRows s: Int, lora: LoRAParameters?,
                        objective: TokenObjective? = .crossEntropy, keepTape: Bool = true) -> DecoderForward {
        let cfg = model.config, t = tokens.count, v = cfg.vocabSize
        precondition(t == targets.count && t <= cfg.maxTargetPositions, "decoder: \(t) tokens for \(targets.count) targets (max \(cfg.maxTargetPositions))")
        var x = [Float](repeating: 0, count: t * d)
        let embedding = model.tokenEmbedding, positions = model.decoderPositions
        for (r, id) in tokens.enumerated() {
            precondition(id >= 0 && id < v, "decoder: token \(id) outside vocabulary \(v)")
            for j in 0..<d { x[r * d + j] = embedding[id * d + j] + positions[r * d + j] }
        }
        var tapes: [BlockTape] = []
        for (i, blk) in decoderBlocks.enumerated() {
            let r = blockForward(c, x, rows: t, blk, decoderNames[i], lora, heads: cfg.decoderAttentionHeads, causal: true, enc: enc, encRows: s,
                                 keepTape: keepTape)
            x = r.y
            if keepTape { tapes.append(r.tape) }
        }
        let n = layerNormForward(c, x, rows: t, gamma: model.decoderNorm.gamma, beta: model.decoderNorm.beta)
        let first = targets.firstIndex { $0 >= 0 } ?? t
        var logits = [Float](repeating: 0, count: (t - first) * v)
        if first < t {
            logits.withUnsafeMutableBufferPointer { lp in n.y.withUnsafeBufferPointer { np in model.tokenEmbedding.withUnsafeBufferPointer { ep in
                c.sgemm(transB: true, m: t - first, n: v, k: d, alpha: 1, a: np.baseAddress! + first * d, lda: d,
                     b: ep.baseAddress!, ldb: d, beta: 0, c: lp.baseAddress!, ldc: v)
            } } }
        }
        let rowTargets = Array(targets[first...])
        let ce: (lossSum: Double, count: Int, probs: [Float])
        switch objective {
        case .crossEntropy?: ce = crossEntropyForward(logits, targets: rowTargets, vocab: v)
        case .distill(let teacher, let temperature, let ceWeight)?:
            ce = distillationLoss(logits: logits, teacherProbs: teacher, targets: rowTargets, firstRow: first, vocab: v,
                                  temperature: temperature, ceWeight: ceWeight)
        case nil: ce = (0, 0, logits)
        }
        return DecoderForward(tapes: tapes, preNorm: x, norm: n, firstRow: first, ce: ce)
    }
}
