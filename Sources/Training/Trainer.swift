import Dispatch
import Foundation
import GlossaCore
import Tensor
import Whisper

/// What the progress callback sees after each optimizer step.
public struct TrainingProgress: Sendable {
    /// 1-based step just finished, and the planned total.
    public var step: Int
    public var totalSteps: Int
    public var epoch: Int
    /// Mean token loss of this step's batch.
    public var loss: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradNorm: Double
    /// Target tokens per second over this session (since start or resume).
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    /// Estimated seconds to the planned last step.
    public var etaSeconds: Double
    /// Set on steps where the dev set was evaluated.
    public var devLoss: Double?
    /// What the caller's dev evaluator returned on those steps (e.g. ["wer": 0.22]).
    public var devMetrics: [String: Double]?
}

/// The callback's answer: go on, or stop now (state is checkpointed first when a sink is set).
public enum TrainingControl: Sendable { case proceed, stop }

/// The outcome of a run.
public struct TrainingResult: Sendable {
    /// The kept adapter (best dev loss, or the last step without dev data).
    public var weights: LoRAWeights
    public var provenance: TrainingProvenance
    /// Final state (what a checkpoint would hold).
    public var state: TrainerState
    /// True when the run ended because the callback asked to stop (not finished).
    public var interrupted: Bool
}

/// LoRA fine-tuning of a frozen Whisper with teacher-forced cross-entropy.
///
/// Deterministic: the same base, data, config and seed give bit-identical weights, with or
/// without concurrency (per-utterance gradients are summed in batch order) and across a
/// checkpoint/resume.
public struct LoRATrainer: Sendable {
    public let graph: WhisperTrainingGraph
    public let config: TrainingConfig
    public let special: SpecialTokens
    /// Start from these factors instead of PEFT's random init (a distillation student starts
    /// from the experts' `linear` fusion).
    public var initialParameters: LoRAParameters?
    /// Distillation: the teacher adapter for each language token, and the objective's
    /// hyper-parameters. Every training utterance's language must have a teacher.
    public var teachers: [Int: LoRAParameters] = [:]
    public var distillation: DistillationConfig?

    /// `compute`: the shared kernels. With several utterances at once their element-wise loops
    /// run on one thread each (the utterances are the parallelism; BLAS threads are the caller's).
    public init(base: WhisperModel, config: TrainingConfig, special: SpecialTokens,
                compute: Compute) {
        self.graph = WhisperTrainingGraph(model: base, compute: compute, concurrentUtterances: config.concurrentUtterances)
        self.config = config; self.special = special
    }

    /// A fresh state: PEFT-initialised LoRA from the seed.
    public func initialState(train: [TrainingExample]) throws(TrainingError) -> TrainerState {
        try config.validate(examples: train.count)
        let p: LoRAParameters
        if let initialParameters { p = initialParameters } else {
            p = try LoRAParameters.initialise(model: graph.model.config, targets: config.targets, scope: config.scope,
                                              rank: config.rank, alpha: config.alpha, useRSLoRA: config.useRSLoRA, seed: config.seed)
        }
        // Data order uses its own stream derived from the seed, independent of the model size.
        return TrainerState(params: p, rng: SeededGenerator(seed: config.seed ^ 0x5EED_DA7A), fingerprint: fingerprint(train))
    }

    func fingerprint(_ train: [TrainingExample]) -> String {
        var h = DigestHasher()
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys   // stable bytes: the fingerprint must not depend on key order
        h.update(try! enc.encode(config))
        h.update(Array(examplesDigest(train).description.utf8))
        if let distillation { h.update(try! enc.encode(distillation)) }
        if let initialParameters { for f in initialParameters.factors { f.a.withUnsafeBytes { h.update(Array($0)) } } }
        return h.finalize().description
    }

    /// Runs (or resumes) training.
    ///
    /// - Parameters:
    ///   - resume: a state from `TrainerState.read` to continue; nil starts fresh.
    ///   - checkpointEvery: steps between calls of `checkpoint` (0: never, except on stop).
    ///   - checkpoint: persists a state (e.g. `state.write(to:)`); called on schedule, when the
    ///     callback stops the run, and at the end.
    ///   - devEvaluator: extra dev metrics computed whenever the dev loss is (e.g. WER from the
    ///     runtime's decoder on the dev audio); the loss alone drives early stopping.
    ///   - progress: called after every step; return `.stop` to interrupt.
    public func run(train: [TrainingExample], dev: [TrainingExample] = [], resume: TrainerState? = nil,
                    checkpointEvery: Int = 0, checkpoint: ((TrainerState) throws -> Void)? = nil,
                    devEvaluator: ((LoRAWeights) -> [String: Double])? = nil,
                    progress: (TrainingProgress) -> TrainingControl = { _ in .proceed }) throws(TrainingError) -> TrainingResult {
        try config.validate(examples: train.count)
        let c = graph.model.config
        for e in train + dev {
            if distillation != nil, teachers[e.languageToken] == nil {
                throw .badExample(id: e.id, reason: "no teacher for its language token \(e.languageToken); give an expert for every language of the manifest")
            }
            guard 4 + e.transcript.count <= c.maxTargetPositions else {
                throw .badExample(id: e.id, reason: "\(e.transcript.count) transcript tokens exceed \(c.maxTargetPositions - 4)")
            }
            do { _ = try graph.encoderRows(featureCount: e.features.count) } catch { throw .badExample(id: e.id, reason: "\(error)") }
        }
        var st: TrainerState
        if let resume {
            guard resume.fingerprint == fingerprint(train) else {
                throw .checkpoint(path: "(resume state)", reason: "it belongs to a different config or data set")
            }
            st = resume
        } else {
            st = try initialState(train: train)
        }
        let total = config.totalSteps(examples: train.count)
        let schedule = LRSchedule(peak: config.learningRate, warmupSteps: min(config.warmupSteps, total), totalSteps: total, decay: config.decay)
        let useCache = config.cacheEncoderOutputs && !st.params.hasEncoderAdapters
        var trainCache = [[Float]?](repeating: nil, count: train.count)
        var devCache = [[Float]?](repeating: nil, count: dev.count)
        let clock = ContinuousClock(), t0 = clock.now
        var sessionTokens = 0, sessionSteps = 0
        var interrupted = false

        while st.step < total && !st.stoppedEarly {
            if st.cursor >= st.order.count {   // new epoch: reshuffle (Fisher-Yates, seeded)
                if !st.order.isEmpty { st.epoch += 1 }
                st.order = Array(train.indices)
                for i in stride(from: st.order.count - 1, to: 0, by: -1) {
                    st.order.swapAt(i, Int(st.rng.next() % UInt64(i + 1)))
                }
                st.cursor = 0
            }
            let batch = Array(st.order[st.cursor..<min(st.cursor + config.batchSize, st.order.count)])
            st.cursor += batch.count
            let tokens = batch.reduce(0) { $0 + train[$1].transcript.count + 1 + (config.predictLanguage ? 1 : 0) }
            let params = st.params, cacheSnapshot = trainCache
            let out = forEachConcurrently(batch.count) { j -> (LoRAParameters, Double, [Float]?) in
                let e = train[batch[j]]
                let seq = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: special,
                                                predictLanguage: config.predictLanguage)
                var g = params.zeros()
                var enc: [Float]? = nil
                let input: WhisperTrainingGraph.EncoderInput
                if useCache {
                    enc = cacheSnapshot[batch[j]] ?? graph.encode(e.features)
                    input = .encoded(enc!, rows: enc!.count / c.dModel)
                } else {
                    input = .features(e.features)
                }
                let r = graph.lossAndGradients(input, tokens: seq.input, targets: seq.targets, lora: params, grads: &g, gradScale: 1 / Float(tokens),
                                               objective: objective(for: e, seq))
                return (g, r.lossSum, enc)
            }
            var grads = out[0].0
            var lossSum = out[0].1
            for j in 1..<out.count { grads.add(out[j].0); lossSum += out[j].1 }
            if useCache { for j in batch.indices where trainCache[batch[j]] == nil { trainCache[batch[j]] = out[j].2 } }
            let loss = lossSum / Double(tokens)
            guard loss.isFinite else { throw .diverged(step: st.step + 1, loss: loss) }
            let norm = config.clipNorm.map { clipGlobalNorm(&grads, maxNorm: $0) } ?? grads.squaredNorm().squareRoot()
            let lr = schedule.rate(at: st.step)
            adamWStep(&st.params, grads: grads, state: &st.adam, lr: lr, config.adamW)
            st.step += 1; st.tokensSeen += tokens; st.lastTrainLoss = loss
            sessionTokens += tokens; sessionSteps += 1

            var devLoss: Double? = nil
            var devMetrics: [String: Double]? = nil
            let evalNow = !dev.isEmpty && ((config.evalEvery > 0 && st.step % config.evalEvery == 0) || st.step == total)
            if evalNow {
                let dl = devLossOf(st.params, dev: dev, cache: &devCache, useCache: useCache)
                devLoss = dl
                devMetrics = devEvaluator?(st.params.loraWeights(config: config.loraConfig(modules: st.params.names)))
                if st.bestDevLoss.map({ dl < $0 - config.minDelta }) ?? true {
                    st.bestDevLoss = dl; st.best = st.params; st.bestStep = st.step; st.evalsWithoutImprovement = 0
                } else {
                    st.evalsWithoutImprovement += 1
                    if let p = config.patience, st.evalsWithoutImprovement >= p { st.stoppedEarly = true }
                }
            }
            let elapsed = secondsSince(t0, clock)
            let perStep = elapsed / Double(sessionSteps)
            let control = progress(TrainingProgress(step: st.step, totalSteps: total, epoch: st.epoch, loss: loss, learningRate: lr,
                                                    gradNorm: norm, tokensPerSecond: Double(sessionTokens) / max(elapsed, 1e-9),
                                                    elapsedSeconds: elapsed, etaSeconds: perStep * Double(total - st.step), devLoss: devLoss,
                                                    devMetrics: devMetrics))
            if control == .stop { interrupted = true; break }
            if checkpointEvery > 0 && st.step % checkpointEvery == 0 && st.step < total { try save(st, checkpoint) }
        }
        try save(st, checkpoint)
        let kept = st.best ?? st.params
        let prov = TrainingProvenance(config: config, steps: st.step,
                                      epochsCompleted: Double(st.step * config.batchSize) / Double(train.count),
                                      seed: config.seed, dataDigest: examplesDigest(train),
                                      devDataDigest: dev.isEmpty ? nil : examplesDigest(dev), tokensSeen: st.tokensSeen,
                                      finalTrainLoss: st.lastTrainLoss, bestDevLoss: st.bestDevLoss,
                                      keptStep: st.best == nil ? st.step : st.bestStep, stoppedEarly: st.stoppedEarly)
        return TrainingResult(weights: kept.loraWeights(config: config.loraConfig(modules: kept.names)), provenance: prov,
                              state: st, interrupted: interrupted)
    }

    /// Mean token loss of `params` on `dev` (forward only).
    public func devLoss(_ params: LoRAParameters, dev: [TrainingExample]) -> Double {
        var cache = [[Float]?](repeating: nil, count: dev.count)
        return devLossOf(params, dev: dev, cache: &cache, useCache: false)
    }

    func devLossOf(_ params: LoRAParameters, dev: [TrainingExample], cache: inout [[Float]?], useCache: Bool) -> Double {
        let c = graph.model.config
        let snapshot = cache
        let out = forEachConcurrently(dev.count) { j -> (Double, Int, [Float]?) in
            let e = dev[j]
            let seq = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: special,
                                            predictLanguage: config.predictLanguage)
            if useCache {
                let enc = snapshot[j] ?? graph.encode(e.features)
                let r = graph.loss(.encoded(enc, rows: enc.count / c.dModel), tokens: seq.input, targets: seq.targets, lora: params)
                return (r.lossSum, r.count, enc)
            }
            let r = graph.loss(.features(e.features), tokens: seq.input, targets: seq.targets, lora: params)
            return (r.lossSum, r.count, nil)
        }
        if useCache { for j in dev.indices where cache[j] == nil { cache[j] = out[j].2 } }
        let (s, n) = out.reduce((0.0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        return s / Double(max(n, 1))
    }

    /// Cross-entropy, or with distillation the soft targets of the utterance's teacher (its
    /// language's expert, run forward on the utterance's features).
    func objective(for e: TrainingExample, _ seq: (input: [Int], targets: [Int])) -> TokenObjective {
        guard let distillation, let teacher = teachers[e.languageToken] else { return .crossEntropy }
        let t = Float(distillation.temperature)
        let (logits, _) = graph.logits(.features(e.features), tokens: seq.input, targets: seq.targets, lora: teacher)
        return .distill(teacherProbs: softmaxRows(logits, vocab: graph.model.config.vocabSize, temperature: t), temperature: t,
                        ceWeight: Float(distillation.ceWeight))
    }

    /// Runs `body(0..<n)` with up to `config.concurrentUtterances` at once; results in index order.
    func forEachConcurrently<T: Sendable>(_ n: Int, _ body: @Sendable (Int) -> T) -> [T] {
        concurrentMap(n, width: config.concurrentUtterances, body)
    }
}

/// Calls the checkpoint sink, wrapping its errors once.
private func save(_ st: TrainerState, _ sink: ((TrainerState) throws -> Void)?) throws(TrainingError) {
    do { try sink?(st) } catch let e as TrainingError { throw e } catch {
        throw .checkpoint(path: "(checkpoint sink)", reason: "\(error)")
    }
}

private func secondsSince(_ t0: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
    let d = clock.now - t0
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
